"""What the conformance tests share: the images under test and throwaway Docker objects.

Each test checks an image by its official name, whatever carries that name here (the real
image, or our stand-in); STANDIN_TAG_PREFIX (for example standin-dev/) or PYTHON_IMAGE,
POSTGRES_IMAGE, NGINX_IMAGE, PGADMIN_IMAGE, MAILPIT_IMAGE point them at other tags.
"""

import os
import subprocess
import time
import uuid

import pytest

PREFIX = os.environ.get("STANDIN_TAG_PREFIX", "")
PYTHON = os.environ.get("PYTHON_IMAGE") or PREFIX + "python:3.13-slim"
POSTGRES = os.environ.get("POSTGRES_IMAGE") or PREFIX + "postgres:17"
NGINX = os.environ.get("NGINX_IMAGE") or PREFIX + "nginx:1.30"
PGADMIN = os.environ.get("PGADMIN_IMAGE") or PREFIX + "dpage/pgadmin4:9"
MAILPIT = os.environ.get("MAILPIT_IMAGE") or PREFIX + "axllent/mailpit:v1.27.0"
LABEL = "org.django-starter.standin-test"


def docker(*args, check=True, timeout=300):
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode:
        raise AssertionError(f"docker {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def inspect(image, template):
    return docker("image", "inspect", "-f", template, image).stdout.strip()


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.5)


def published(container, port):
    """The host address of a port published as 127.0.0.1::port."""
    return docker("port", container, str(port)).stdout.split()[0]


class Engine:
    """Containers, networks and volumes of one test, removed after it."""

    def __init__(self):
        self.made = []

    def name(self, kind):
        name = f"standin-test-{uuid.uuid4().hex[:10]}"
        self.made.append((kind, name))
        return name

    def run(self, image, *command, options=()):
        name = self.name("container")
        docker("run", "--detach", "--name", name, "--label", LABEL, *options, image, *command)
        return name

    def network(self):
        return docker("network", "create", "--label", LABEL, self.name("network")).stdout.strip()

    def volume(self):
        return docker("volume", "create", "--label", LABEL, self.name("volume")).stdout.strip()

    def remove(self):
        for kind, name in reversed(self.made):
            if kind == "container":
                docker("rm", "--force", "--volumes", name, check=False)
            else:
                docker(kind, "rm", name, check=False)


@pytest.fixture
def engine():
    made = Engine()
    yield made
    made.remove()


def require(image):
    """Fail at once, saying what to do, when the engine or the image is not here."""
    if subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.fail("no Docker engine answers: run .ci/engine.sh first", pytrace=False)
    if docker("image", "inspect", image, check=False).returncode:
        pytest.fail(
            f"{image} is not on this engine: make it with .ci/standins/build.py", pytrace=False
        )
