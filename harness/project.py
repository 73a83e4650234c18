"""The project as the tests drive it from outside: its folder, its name, its
manage.py in a subprocess, with an environment the caller controls completely."""

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Variables of ours that the parent process may carry (pytest-env sets several): every one
# that .env.example documents, and any DJANGO_ one.
_OURS = frozenset(
    re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
)


def project_name() -> str:
    """The project's name, which names its compose project, images and the test projects
    beside them: compose.yaml's top-level `name:`."""
    found = re.search(r"^name: *(\S+)$", (ROOT / "compose.yaml").read_text(), re.MULTILINE)
    assert found, "compose.yaml has no top-level name:"
    return found[1]


def clean_environ(*, dotenv: bool = False, **overrides: str) -> dict[str, str]:
    """The parent's environment without any of the project's variables, plus `overrides`.

    Unless `dotenv` is true, the process reads no env file either (DJANGO_ENV_FILE empty): a
    developer's `.env`, whatever it holds, never changes what a test sees.
    """
    env = {k: v for k, v in os.environ.items() if k not in _OURS and not k.startswith("DJANGO_")}
    if not dotenv:
        env["DJANGO_ENV_FILE"] = ""
    env.update(overrides)
    return env


def working_tree_files() -> list[str]:
    """Tracked and untracked files that git does not ignore: what a commit of now would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_working_tree(destination: Path) -> Path:
    """The project as it stands, without its local state (.venv, .env, caches)."""
    for name in working_tree_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    return destination


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(
    *args: str,
    env: dict[str, str],
    cwd: Path = ROOT,
    check: bool = True,
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


SCRIPTS = Path(__file__).resolve().parent / "scripts"


def django_script(script: str | Path) -> str:
    """The source of harness/scripts/<script>.py (or of the file `script` names), for
    `manage.py shell` to run from stdin: in a local process or a container, where the harness
    itself is not installed."""
    path = script if isinstance(script, Path) else SCRIPTS / f"{script}.py"
    return path.read_text()


def run_django_script(script: str | Path, *, env: dict[str, str], cwd: Path = ROOT, **kwargs):
    """A script run by the project's `manage.py shell` (settings loaded as the app loads
    them); its parameters go in the environment."""
    return manage("shell", "--no-imports", env=env, cwd=cwd, input=django_script(script), **kwargs)
