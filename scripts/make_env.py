"""Create `.env` from `.env.example`, filling every empty secret with a fresh random value.

Never overwrites an existing `.env`: the secrets in it may already be in a database volume.
Usage: python3 scripts/make_env.py [--example PATH] [--target PATH]
"""

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GENERATED = {
    "DJANGO_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "POSTGRES_PASSWORD": lambda: secrets.token_urlsafe(24),
    "DJANGO_DB_PASSWORD": lambda: secrets.token_urlsafe(24),
    "DJANGO_SUPERUSER_PASSWORD": lambda: secrets.token_urlsafe(18),
    "PGADMIN_DEFAULT_PASSWORD": lambda: secrets.token_urlsafe(18),
}

EMPTY_ASSIGNMENT = re.compile(r"^(?P<name>[A-Z_][A-Z0-9_]*)=\s*$")


def render(example: str) -> str:
    def fill(line: str) -> str:
        match = EMPTY_ASSIGNMENT.match(line)
        if match and match["name"] in GENERATED:
            return f"{match['name']}={GENERATED[match['name']]()}"
        return line

    return "\n".join(fill(line) for line in example.splitlines()) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=ROOT / ".env.example")
    parser.add_argument("--target", type=Path, default=ROOT / ".env")
    args = parser.parse_args()

    if args.target.exists():
        print(f"{args.target.name} exists, left unchanged.")
        return 0
    content = render(args.example.read_text())
    # Created readable by its owner only, and never truncating a file that appeared meanwhile.
    fd = os.open(args.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as target:
        target.write(content)
    print(f"Created {args.target.name} with fresh secrets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
