"""Create `.env` from `.env.example`, filling every secret with a fresh random value.

The secrets are what `.env.example` declares in its "Secrets" section: that section is the
one list of them, which `make env`, the deploy tools and the tests all read from here.
Never overwrites an existing `.env`: the secrets in it may already be in a database volume.
Usage: python3 scripts/make_env.py [--example PATH] [--target PATH]
Standard library only: it runs before any virtual environment exists.
"""

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"

_SECTION = re.compile(r"^# --- (?P<title>[^-:]+)")
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Z_][A-Z0-9_]*)=(?P<value>.*)$")
# Lines of the project template (copier) that are no part of a configuration.
_TEMPLATE_LINE = re.compile(r"^\s*# %")


def declared_secrets(example: str | None = None) -> list[str]:
    """The variables in the Secrets section of .env.example, in order: each one `make env`
    generates."""
    return _secrets_section(example, optional=False)


def optional_secrets(example: str | None = None) -> list[str]:
    """The secrets of that section shown as `# NAME=`: set by hand when needed, never
    generated (a former key kept while rotating, say)."""
    return _secrets_section(example, optional=True)


def _secrets_section(example: str | None, *, optional: bool) -> list[str]:
    found, in_secrets = [], False
    for line in (EXAMPLE.read_text() if example is None else example).splitlines():
        if section := _SECTION.match(line):
            in_secrets = section["title"].strip() == "Secrets"
        elif (
            in_secrets
            and line.startswith("# ") == optional
            and (assignment := _ASSIGNMENT.match(line.removeprefix("# ")))
        ):
            found.append(assignment["name"])
    return found


def render(example: str) -> str:
    """The example with each empty secret filled (Django's key longer than the passwords)."""
    secret_names = set(declared_secrets(example))
    lines = []
    for line in example.splitlines():
        if _TEMPLATE_LINE.match(line):
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment and assignment["name"] in secret_names and not assignment["value"].strip():
            length = 50 if assignment["name"] == "DJANGO_SECRET_KEY" else 24
            line = f"{assignment['name']}={secrets.token_urlsafe(length)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=EXAMPLE)
    parser.add_argument("--target", type=Path, default=ROOT / ".env")
    args = parser.parse_args()

    if args.target.exists():
        print(f"{args.target} exists, left unchanged.")
        return 0
    content = render(args.example.read_text())
    # Created readable by its owner only, and never truncating a file that appeared meanwhile.
    fd = os.open(args.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as target:
        target.write(content)
    print(f"Created {args.target} with fresh secrets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
