#!/usr/bin/env python3
"""Make sure the third-party images that the compose files use exist locally.

For each image name given (normally the output of `docker compose config --images`, less the
project's own image):

* an image of that name is already there (pulled, or a look-alike built from the current recipe):
  it is reused;
* otherwise `docker pull NAME` is tried, bounded in time, so that a machine that reaches a
  registry runs on the real official image;
* otherwise a *look-alike* is built from Debian 13 ("trixie") packages and tagged with exactly
  NAME, so that the compose files and the project's Dockerfile run unchanged.

The look-alikes sit on a base image made with `debootstrap --variant=minbase` from the machine's
own apt mirror, carrying the machine's CA bundle (TLS to the package registries may be re-signed
by a local authority). Their recipes are the small Dockerfiles in lookalikes/<dir>/; every
look-alike is labelled with a hash of its recipe, so a second run reuses it and a changed recipe
rebuilds it.

Standard library only. Usage:

    python3 tests/docker/lookalikes.py python:3.13-slim postgres:17 nginx:1.30 dpage/pgadmin4:9
    docker compose config --images | python3 tests/docker/lookalikes.py --ignore-unknown -

Environment: LOOKALIKE_MIRROR (Debian mirror URL; default: from the machine's apt sources),
LOOKALIKE_PULL_TIMEOUT (seconds before giving up on a pull that has not reached a registry,
default 20), DJANGO_STACK_TESTS_CACHE (default ~/.cache/django-stack-tests).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPES = HERE / "lookalikes"

# Image names with a look-alike recipe (folder under lookalikes/): the images the project uses.
# nginx: one recipe stands in for the current 1.x tags (it installs nginx 1.30 from Debian).
IMAGES = {
    "python:3.13-slim": "python",
    "postgres:17": "postgres",
    "nginx:1.30": "nginx",
    "nginx:1.28": "nginx",
    "dpage/pgadmin4:9": "pgadmin4",
}


SUITE = "trixie"
MINBASE_IMAGE = f"lookalike/debian-minbase:{SUITE}"  # plain debootstrap tree
BASE_IMAGE = f"lookalike/debian:{SUITE}"  # + CA bundle, apt settings (lookalikes/base)
LABEL = "org.django-stack-tests.lookalike"
LABEL_RECIPE = "org.django-stack-tests.lookalike.recipe"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CACHE = Path(
    os.environ.get("DJANGO_STACK_TESTS_CACHE") or Path.home() / ".cache" / "django-stack-tests"
)
PULL_TIMEOUT = float(os.environ.get("LOOKALIKE_PULL_TIMEOUT", "20"))
# --fresh: ignore every cache (debootstrap tarball, layer cache, existing images) once per run.
FRESH = {"on": False, "done": set()}
PULL_MAX = float(os.environ.get("LOOKALIKE_PULL_MAX", "900"))  # once a registry answers


class Failure(Exception):
    pass


def say(msg: str) -> None:
    print(f"[lookalikes] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=False, text=True, **kw)


def canonical(name: str) -> str:
    """python:3.13-slim, docker.io/library/python:3.13-slim, ... -> python:3.13-slim."""
    n = name.strip()
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if n.startswith(prefix):
            n = n[len(prefix) :]
    if n.startswith("library/"):
        n = n[len("library/") :]
    return n


# --- docker helpers -------------------------------------------------------------------------


def image_labels(name: str) -> dict[str, str] | None:
    """Labels of a local image, or None when there is no such image."""
    r = run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", name],
        capture_output=True,
    )
    if r.returncode != 0:
        return None
    return json.loads(r.stdout.strip() or "null") or {}


def try_pull(name: str) -> bool:
    """`docker pull NAME`, given up after PULL_TIMEOUT s unless a registry has answered."""
    proc = subprocess.Popen(
        ["docker", "pull", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    answered = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if re.search(r"Pulling from|Pulling fs layer|Digest:|Already exists", line):
                answered.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    start = time.monotonic()
    while proc.poll() is None:
        limit = PULL_MAX if answered.is_set() else PULL_TIMEOUT
        if time.monotonic() - start > limit:
            proc.kill()
            proc.wait()
            lines.append(f"(gave up after {limit:.0f}s)")
            break
        time.sleep(0.2)
    t.join(timeout=2)
    if proc.returncode == 0:
        return True
    why = next((ln for ln in reversed(lines) if ln.strip()), "no output")
    say(f"  pull of {name} failed: {why[:200]}")
    return False


def image_id(name: str) -> str | None:
    r = run(["docker", "image", "inspect", "--format", "{{.Id}}", name], capture_output=True)
    return r.stdout.strip() if r.returncode == 0 else None


def docker_build(tag: str, context: Path, labels: dict[str, str], log: Path) -> None:
    """Build TAG; the image it replaces is removed when nothing else uses it."""
    previous = image_id(tag)
    cmd = ["docker", "build", "--force-rm", "-t", tag]
    if FRESH["on"]:
        cmd.append("--no-cache")
    for k, v in labels.items():
        cmd += ["--label", f"{k}={v}"]
    cmd.append(str(context))
    env = dict(os.environ, DOCKER_BUILDKIT="0")  # legacy builder: sees local images as-is
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh:
        r = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False)
    if r.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise Failure(f"docker build of {tag} failed (log: {log}):\n  " + "\n  ".join(tail))
    if previous and previous != image_id(tag):
        # Fails harmlessly when the old image still has another tag, children or containers.
        run(["docker", "image", "rm", previous], capture_output=True)


# --- recipes and hashes --------------------------------------------------------------------


def tree_hash(*parts: bytes | Path) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            if part.is_dir():
                for f in sorted(p for p in part.rglob("*") if p.is_file()):
                    h.update(str(f.relative_to(part)).encode() + b"\0")
                    h.update(f.read_bytes() + b"\0")
                    h.update(b"x" if os.access(f, os.X_OK) else b"-")
            else:
                h.update(part.read_bytes())
        else:
            h.update(part)
        h.update(b"\x1e")
    return h.hexdigest()[:16]


def debian_mirror() -> str:
    """The machine's Debian mirror, from its apt sources (never hard-coded)."""
    env = os.environ.get("LOOKALIKE_MIRROR")
    if env:
        return env.rstrip("/")
    uris: list[str] = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as fh:
            for line in fh:
                m = re.match(r"\s*URIs:\s*(.+)", line)
                if m:
                    uris += m.group(1).split()
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
        if os.path.exists(path):
            with open(path) as fh:
                for line in fh:
                    m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", line)
                    if m:
                        uris.append(m.group(1))
    main = [u for u in uris if "security" not in u and u.startswith(("http://", "https://"))]
    if not main:
        raise Failure(
            "no Debian mirror found in /etc/apt/sources.list(.d); set LOOKALIKE_MIRROR to one"
        )
    return main[0].rstrip("/")


@contextlib.contextmanager
def cache_lock():
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "lookalikes.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def minbase_key(mirror: str) -> str:
    return tree_hash(f"debootstrap --variant=minbase {SUITE} {mirror}".encode())


def base_key() -> str:
    """Recipe hash of the base image (computed without building anything)."""
    return tree_hash(minbase_key(debian_mirror()).encode(), RECIPES / "base", HOST_CA_BUNDLE)


def ensure_minbase(mirror: str) -> str:
    """Debian minbase image from debootstrap; its tarball is cached across runs."""
    key = minbase_key(mirror)
    labels = image_labels(MINBASE_IMAGE)
    fresh = FRESH["on"] and "minbase" not in FRESH["done"]
    FRESH["done"].add("minbase")
    if labels is not None and labels.get(LABEL_RECIPE) == key and not fresh:
        return key
    tarball = CACHE / f"debian-{SUITE}-minbase-{key}.tar"
    if fresh or not tarball.exists():
        if not shutil.which("debootstrap"):
            raise Failure(
                "debootstrap is missing: run tests/docker/engine.sh"
                " (or apt-get install debootstrap)"
            )
        t0 = time.monotonic()
        say(f"debootstrap --variant=minbase {SUITE} from {mirror} ...")
        with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            log = CACHE / "logs" / "debootstrap.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("w") as fh:
                r = subprocess.run(
                    ["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror],
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            if r.returncode != 0:
                tail = "\n  ".join(log.read_text(errors="replace").splitlines()[-20:])
                raise Failure(f"debootstrap failed (log: {log}):\n  {tail}")
            # What a container image does not want: downloaded packages and lists, the
            # host's resolv.conf / hostname (Docker provides its own).
            for pattern in (
                "var/cache/apt/archives/*.deb",
                "var/lib/apt/lists/*",
                "var/cache/apt/*.bin",
                "etc/resolv.conf",
                "etc/hostname",
                "var/log/*.log",
                "var/log/apt/*",
            ):
                for p in glob.glob(str(rootfs / pattern)):
                    if os.path.isfile(p) or os.path.islink(p):
                        os.remove(p)
            part = tarball.with_suffix(".part")
            r = run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(part), "."])
            if r.returncode != 0:
                raise Failure("tar of the debootstrap tree failed")
            part.rename(tarball)
        for old in CACHE.glob(f"debian-{SUITE}-minbase-*.tar"):
            if old != tarball:
                old.unlink()
        say(f"  debootstrap done in {time.monotonic() - t0:.0f}s (cached: {tarball})")
    with tarball.open("rb") as fh:
        r = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                'CMD ["bash"]',
                "--change",
                f"LABEL {LABEL}=minbase {LABEL_RECIPE}={key}",
                "-",
                MINBASE_IMAGE,
            ],
            stdin=fh,
            capture_output=True,
            text=True,
            check=False,
        )
    if r.returncode != 0:
        raise Failure(f"docker import failed: {r.stderr.strip()}")
    return key


def ensure_base() -> str:
    """lookalike/debian:trixie = minbase + the machine's CA bundle and apt settings."""
    ensure_minbase(debian_mirror())
    key = base_key()
    labels = image_labels(BASE_IMAGE)
    fresh = FRESH["on"] and "base" not in FRESH["done"]
    FRESH["done"].add("base")
    if labels is not None and labels.get(LABEL_RECIPE) == key and not fresh:
        return key
    say(f"building {BASE_IMAGE} ...")
    with tempfile.TemporaryDirectory(prefix="lookalike-base-") as tmp:
        ctx = Path(tmp) / "ctx"
        shutil.copytree(RECIPES / "base", ctx)
        shutil.copyfile(HOST_CA_BUNDLE, ctx / "host-ca-bundle.crt")
        docker_build(
            BASE_IMAGE, ctx, {LABEL: "base", LABEL_RECIPE: key}, CACHE / "logs" / "base.log"
        )
    return key


def build_lookalike(name: str, recipe_dir: Path, key: str) -> None:
    with tempfile.TemporaryDirectory(prefix="lookalike-") as tmp:
        ctx = Path(tmp) / "ctx"
        shutil.copytree(recipe_dir, ctx)
        docker_build(
            name, ctx, {LABEL: name, LABEL_RECIPE: key}, CACHE / "logs" / f"{recipe_dir.name}.log"
        )


# --- main ----------------------------------------------------------------------------------


def ensure(name: str, *, pull: bool, force: bool) -> str:
    """Make NAME exist locally; return what was done."""
    recipe_dir = RECIPES / IMAGES[canonical(name)]
    labels = image_labels(name)
    if labels is not None and not force:
        if LABEL_RECIPE not in labels:
            return "reused (present, not a look-alike)"
        # A look-alike: reuse it only if it was built from the current recipe.
        if labels[LABEL_RECIPE] == tree_hash(base_key().encode(), recipe_dir):
            return "reused (look-alike, recipe unchanged)"
        say(f"  {name}: look-alike recipe changed")
    if pull and try_pull(name):
        return "pulled"
    key = tree_hash(ensure_base().encode(), recipe_dir)
    say(f"building look-alike {name} from {recipe_dir.relative_to(HERE.parent.parent)} ...")
    build_lookalike(name, recipe_dir, key)
    return "built (look-alike)"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images", nargs="*", help="image names; '-' reads them from stdin")
    ap.add_argument("--no-pull", action="store_true", help="do not try `docker pull` first")
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="rebuild everything from scratch: debootstrap, base, look-alikes (no layer cache)",
    )
    ap.add_argument(
        "--ignore-unknown",
        action="store_true",
        help="skip (instead of failing on) names that have no look-alike recipe",
    )
    ap.add_argument("--all", action="store_true", help="all images that have a recipe")
    args = ap.parse_args(argv)
    FRESH["on"] = args.fresh

    names: list[str] = []
    for a in args.images:
        names += sys.stdin.read().split() if a == "-" else [a]
    if args.all:
        names += [n for n in IMAGES if n != "nginx:1.28"]
    names = list(dict.fromkeys(n for n in names if n.strip()))
    if not names:
        ap.error("no image names given")

    unknown = [n for n in names if canonical(n) not in IMAGES]
    if unknown:
        if not args.ignore_unknown:
            say("ERROR: no look-alike recipe for: " + ", ".join(unknown))
            say(
                "  known: " + ", ".join(IMAGES) + " (leave out the project's own images,"
                " or pass --ignore-unknown)"
            )
            return 2
        for n in unknown:
            say(f"{n}: skipped (no look-alike recipe; built by compose?)")
        names = [n for n in names if n not in unknown]

    if shutil.which("docker") is None or run(["docker", "info"], capture_output=True).returncode:
        say("ERROR: no Docker engine answers; run tests/docker/engine.sh first")
        return 1

    failed = 0
    total = time.monotonic()
    with cache_lock():
        for name in names:
            t0 = time.monotonic()
            try:
                what = ensure(name, pull=not args.no_pull, force=args.fresh)
            except Failure as e:
                failed += 1
                say(f"{name}: FAILED after {time.monotonic() - t0:.1f}s: {e}")
                continue
            say(f"{name}: {what} in {time.monotonic() - t0:.1f}s")
    say(f"done in {time.monotonic() - total:.1f}s" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
