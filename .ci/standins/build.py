#!/usr/bin/env python3
"""Make sure the third-party images that the compose files name exist on this engine.

For each name: an image already here is reused (a stand-in only if it was built from the
current recipe); otherwise `docker pull` is tried, so that a machine that reaches a registry
runs on the real image; otherwise the stand-in of this folder is built and tagged with
exactly that name. Standard library only.

    python3 .ci/standins/build.py python:3.13-slim postgres:17 nginx:1.30 dpage/pgadmin4:9 \
        axllent/mailpit:v1.27.0
    docker compose config --images | python3 .ci/standins/build.py -
    python3 .ci/standins/build.py --tag-prefix standin-dev/ --fresh postgres:17
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPES = {
    "python:3.13-slim": "python",
    "postgres:17": "postgres",
    "nginx:1.30": "nginx",
    "nginx:1.28": "nginx",
    "dpage/pgadmin4:9": "pgadmin",
    "axllent/mailpit:v1.27.0": "mailpit",
}
SUITE = "trixie"
LABEL = "org.django-starter.standin.recipe"
# The look-alikes that came before the stand-ins: replaced like an outdated stand-in.
RETIRED_LABEL = "org.django-stack-tests.lookalike.recipe"
MACHINE_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CACHE = Path(os.environ.get("STANDIN_CACHE") or Path.home() / ".cache/django-starter-ci/standins")
# A registry that can be reached says so within seconds; one that cannot may leave a pull
# hanging on the network for minutes.
PULL_ANSWER_WITHIN = 20


class Failed(Exception):
    pass


def say(message):
    print(f"[standins] {message}", file=sys.stderr, flush=True)


def labels_of(image):
    """The image's labels, or None when there is no such image here."""
    result = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{json .Config.Labels}}", image],
        capture_output=True,
        text=True,
    )
    return None if result.returncode else json.loads(result.stdout) or {}


def image_id(image):
    result = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", image], capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else None


def run_logged(command, log_name, **kwargs):
    log = CACHE / "logs" / (re.sub(r"[^\w.-]+", "_", log_name) + ".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    if result.returncode:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise Failed(f"`{' '.join(command[:3])} ...` failed, log {log}:\n  " + "\n  ".join(tail))


def digest(*parts):
    """A hash of strings and of files (names, contents, executable bits)."""
    sha = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for file in files:
                sha.update(f"{file.relative_to(part.parent)} {os.access(file, os.X_OK)}\n".encode())
                sha.update(file.read_bytes())
        else:
            sha.update(part.encode())
        sha.update(b"\0")
    return sha.hexdigest()[:16]


def debian_mirror():
    """The mirror this machine installs its own Debian packages from."""
    if os.environ.get("STANDIN_MIRROR"):
        return os.environ["STANDIN_MIRROR"]
    release = Path("/etc/os-release").read_text()
    codename = re.search(r"^VERSION_CODENAME=\"?(\w+)", release, re.M)[1]
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(re.findall(r"^([\w-]+):[ \t]*(.*)$", stanza, re.M))
            if codename in fields.get("Suites", "").split() and fields.get("URIs"):
                return fields["URIs"].split()[0]
    for path in [Path("/etc/apt/sources.list"), *sorted(sources.glob("*.list"))]:
        text = path.read_text() if path.exists() else ""
        for uri, suite in re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            if suite == codename:
                return uri
    raise Failed(f"no Debian mirror for {codename} in the apt sources; set STANDIN_MIRROR")


def rootfs_tarball(mirror, fresh):
    """Debian minbase as a tar file, made once per mirror and kept in the cache."""
    tarball = CACHE / f"debian-{SUITE}-minbase-{digest(mirror)}.tar"
    if tarball.exists() and not fresh:
        return tarball
    if not shutil.which("debootstrap"):
        raise Failed("debootstrap is missing: run .ci/engine.sh (or apt-get install debootstrap)")
    say(f"debootstrap --variant=minbase {SUITE} from {mirror}")
    # A new folder each time: after a failed run it may still hold mounts, so it is left be.
    tree = Path(tempfile.mkdtemp(prefix="rootfs-", dir=CACHE))
    run_logged(["debootstrap", "--variant=minbase", SUITE, str(tree), mirror], "debootstrap")
    # Docker provides /dev, name resolution and the host name; downloaded packages are waste.
    leave_out = [
        "./dev/*",
        "./etc/resolv.conf",
        "./etc/hostname",
        "./var/cache/apt/archives/*.deb",
        "./var/lib/apt/lists/*",
    ]
    partial = tarball.with_suffix(".partial")
    excludes = [f"--exclude={pattern}" for pattern in leave_out]
    tar = ["tar", "-C", str(tree), "--numeric-owner", *excludes, "-cf", str(partial), "."]
    run_logged(tar, "tar")
    partial.rename(tarball)
    shutil.rmtree(tree)
    return tarball


def build(tag, context, key, *, fresh, dockerfile=None, base=None):
    command = ["docker", "build", "--force-rm", "-t", tag, "--label", f"{LABEL}={key}"]
    if dockerfile:
        command += ["-f", str(dockerfile)]
    if base:
        command += ["--build-arg", f"BASE={base}"]
    if fresh:
        command += ["--no-cache"]
    previous = image_id(tag)
    # The legacy builder: it sees local images as they are and needs no buildx plugin.
    run_logged([*command, str(context)], tag, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    if previous and previous != image_id(tag):
        # Refused, harmlessly, while a container or another tag still uses it.
        subprocess.run(["docker", "image", "rm", previous], capture_output=True)


def pull(image):
    process = subprocess.Popen(
        ["docker", "pull", image], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if not select.select([process.stdout], [], [], PULL_ANSWER_WITHIN)[0]:
        process.kill()
        process.wait()
        say(f"{image}: no registry answered within {PULL_ANSWER_WITHIN}s")
        return False
    try:
        output = process.communicate(timeout=1800)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        output = "(still pulling after 30 minutes)"
    if process.returncode:
        last = (output.strip().splitlines() or ["no output"])[-1]
        say(f"{image}: pull failed: {last}")
    return process.returncode == 0


class Builder:
    def __init__(self, prefix, fresh, try_pull):
        self.prefix, self.fresh, self.try_pull = prefix, fresh, try_pull
        self.base = f"{prefix}standin-base:{SUITE}"
        self.mirror = debian_mirror()
        self.base_key = digest(SUITE, self.mirror, MACHINE_CA, HERE / "base")
        self.base_done = False
        self.made_here = {}  # tag: recipe hash, for the stand-ins built or reused in this run

    def ensure_base(self):
        labels = labels_of(self.base)
        fresh = self.fresh and not self.base_done
        if labels and labels.get(LABEL) == self.base_key and not fresh:
            return
        tarball = rootfs_tarball(self.mirror, fresh)
        say(f"building {self.base}")
        with tempfile.TemporaryDirectory(dir=CACHE) as context:
            os.link(tarball, Path(context) / "rootfs.tar")
            shutil.copyfile(MACHINE_CA, Path(context) / "machine-ca.crt")
            recipe = HERE / "base" / "Dockerfile"
            build(self.base, context, self.base_key, fresh=fresh, dockerfile=recipe)
        self.base_done = True

    def ensure(self, name):
        """Make the image exist; say how."""
        recipe = HERE / RECIPES[name]
        tag = self.prefix + name
        key = digest(self.base_key, recipe)
        labels = labels_of(tag)
        if labels is not None and LABEL not in labels and RETIRED_LABEL not in labels:
            return "reused (not a stand-in)"
        if labels is not None and labels.get(LABEL) == key and not self.fresh:
            self.made_here[tag] = key
            return "reused (stand-in of the current recipe)"
        # A prefixed name is ours alone: no registry has it.
        if self.try_pull and not self.prefix and pull(tag):
            return "pulled"
        # nginx:1.28 and nginx:1.30 are one stand-in: made once, tagged twice.
        for other, folder in RECIPES.items():
            twin = self.prefix + other
            if other != name and folder == RECIPES[name] and self.made_here.get(twin) == key:
                subprocess.run(["docker", "tag", twin, tag], check=True)
                return f"tagged as the same stand-in as {twin}"
        self.ensure_base()
        say(f"building {tag} from {recipe.relative_to(HERE)}/")
        build(tag, recipe, key, fresh=self.fresh, base=self.base)
        self.made_here[tag] = key
        return "built (stand-in)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+", help="image names, or - to read them from stdin")
    parser.add_argument(
        "--tag-prefix", default="", help="tag as PREFIX+name (e.g. standin-dev/), never pull"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="rebuild the stand-ins from scratch: new debootstrap, no layer cache",
    )
    parser.add_argument("--no-pull", action="store_true", help="never try `docker pull`")
    args = parser.parse_args()

    names = []
    for arg in args.images:
        names += sys.stdin.read().split() if arg == "-" else [arg]
    if subprocess.run(["docker", "info"], capture_output=True).returncode:
        say("ERROR: no Docker engine answers: run .ci/engine.sh first")
        return 1
    CACHE.mkdir(parents=True, exist_ok=True)
    failed = 0
    with open(CACHE / "lock", "w") as lock:
        # One builder at a time on this machine: they share the cache and the tags.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            builder = Builder(args.tag_prefix, args.fresh, not args.no_pull)
        except Failed as error:
            say(f"ERROR: {error}")
            return 1
        for raw in dict.fromkeys(names):
            name = re.sub(r"^(docker\.io/)?(library/)?", "", raw)
            if name not in RECIPES:
                say(f"{raw}: no stand-in for it here, left alone")
                continue
            started = time.monotonic()
            try:
                outcome = builder.ensure(name)
            except Failed as error:
                failed += 1
                outcome = f"FAILED: {error}"
            say(f"{args.tag_prefix}{name}: {outcome} ({time.monotonic() - started:.0f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
