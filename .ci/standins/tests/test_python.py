"""python:3.13-slim as the project's Dockerfile uses it (see ../README.md)."""

import uuid

import pytest

from conftest import PYTHON, docker, require

# A multi-stage build as the project's: uv from PyPI in a build stage with a cache mount
# (BuildKit, through compose), the result run by a non-root user.
DOCKERFILE = """\
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE} AS build
ENV UV_PYTHON_DOWNLOADS=never
RUN --mount=type=cache,target=/root/.cache/pip pip install --disable-pip-version-check uv
RUN uv venv /opt/venv && uv pip install --python /opt/venv/bin/python six

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 1000 app && useradd --uid 1000 --gid app --no-create-home app
COPY --from=build /opt/venv /opt/venv
USER app
CMD ["/opt/venv/bin/python", "-c", "import os, six; print(os.getuid(), six.__name__)"]
"""


@pytest.fixture(scope="module", autouse=True)
def image():
    require(PYTHON)


def shell(script):
    return docker("run", "--rm", PYTHON, "sh", "-ec", script).stdout


def test_paths_version_and_locale():
    """python, python3 and pip in /usr/local/bin, first on PATH; Python 3.13; C.UTF-8."""
    out = shell('command -v python; command -v python3; command -v pip; echo "$PATH $LANG"')
    lines = out.splitlines()
    assert lines[:3] == [f"/usr/local/bin/{tool}" for tool in ("python", "python3", "pip")]
    path, lang = lines[3].split()
    assert path.split(":")[0] == "/usr/local/bin"
    assert {"/usr/local/sbin", "/usr/sbin", "/sbin"} <= set(path.split(":"))
    assert lang == "C.UTF-8"
    assert shell("python -c 'import sys; print(sys.version_info[:2])'") == "(3, 13)\n"


def test_users_groups_and_install():
    """groupadd, useradd and install, as Dockerfiles use them to make a non-root user."""
    out = shell(
        "groupadd -g 1234 app; useradd -u 1234 -g app -M app; install -d -o app /srv/x; "
        "id app; stat -c %U /srv/x"
    )
    assert "uid=1234(app) gid=1234(app)" in out
    assert out.endswith("app\n")


def test_pip_installs_from_pypi():
    """pip reaches PyPI over TLS (through the machine's CA bundle where a stand-in runs)."""
    out = shell(
        "pip install -q --no-cache-dir --disable-pip-version-check six; "
        "python -c 'import six; print(six.__name__)'"
    )
    assert out.endswith("six\n")


def test_compose_builds_a_multi_stage_image_with_uv(tmp_path):
    """docker compose build (BuildKit) runs a uv build stage on it; the result runs non-root."""
    tag = f"standin-test/python-build:{uuid.uuid4().hex[:10]}"
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  app:\n    build:\n      context: .\n"
        f"      args: {{PYTHON_IMAGE: '{PYTHON}'}}\n    image: {tag}\n"
    )
    try:
        docker("compose", "--project-directory", str(tmp_path), "build", "--quiet", timeout=600)
        assert docker("run", "--rm", tag).stdout == "1000 six\n"
    finally:
        docker("image", "rm", "--force", tag, check=False)
