"""Docker secrets, made from the secrets `.env.example` declares: each value goes from the
environment or the env file to `docker secret create` on stdin, never on a command line, and
reaches the containers as a file under /run/secrets/ (read through NAME_FILE).

A Docker secret cannot change. So each value is a version of its secret, named
<stack>_<secret>_v<N>: when the value in .env (or the environment) is no longer the one the
stack runs with, the deploy makes the next version and says so, and the services that use it
roll over to it on that deploy (swarm/README.md, Rotating secrets). To know, each version
carries a fingerprint of its value in its labels.
"""

import hashlib
import json
import re
import secrets as random

from scripts.make_env import declared_secrets, optional_secrets
from swarm.engine import SwarmError, docker, say
from swarm.settings import setting

FINGERPRINT, SALT = "fingerprint", "fingerprint-salt"


def variable_of(secret: str) -> str:
    """The stack file names each secret after its variable, in lower case."""
    for name in [*declared_secrets(), *optional_secrets()]:
        if name.lower() == secret:
            return name
    raise SwarmError(f"the stack uses a secret {secret!r} that .env.example does not declare")


def fingerprint(value: str, salt: str) -> str:
    """A salted hash of the value. Whoever can read it (through the Docker API of a manager)
    can read the secret itself anyway, by running a service that mounts it."""
    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()


def versions(base: str) -> dict[int, dict]:
    """The versions of the secret `base` that exist, by number: their labels."""
    names = docker("secret", "ls", "--filter", f"name={base}_v", "--format", "{{.Name}}")
    pattern = re.compile(rf"{re.escape(base)}_v\d+")
    found = [name for name in names.stdout.split() if pattern.fullmatch(name)]
    if not found:
        return {}
    described = json.loads(docker("secret", "inspect", *found).stdout)
    return {
        int(secret["Spec"]["Name"].rpartition("_v")[2]): secret["Spec"].get("Labels") or {}
        for secret in described
    }


def ensure_secrets(config: dict, stack: str) -> None:
    """Every secret the stack file uses exists with the value the environment or .env holds
    now, and the stack file names that version of it."""
    for secret, spec in config.get("secrets", {}).items():
        variable, base = variable_of(secret), spec["name"]
        value = setting(variable)
        if not value and variable not in optional_secrets():
            raise SwarmError(
                f"{variable} is not set. Set it in the environment or in .env "
                "(`make env` creates .env from .env.example with fresh secrets)."
            )
        existing = versions(base)
        current = [
            number
            for number, labels in existing.items()
            if labels.get(FINGERPRINT) == fingerprint(value, labels.get(SALT, ""))
        ]
        if current:
            spec["name"] = f"{base}_v{max(current)}"
            continue
        spec["name"] = f"{base}_v{max(existing, default=0) + 1}"
        salt = random.token_hex(16)
        docker(
            "secret",
            "create",
            "--label",
            f"{FINGERPRINT}={fingerprint(value, salt)}",
            "--label",
            f"{SALT}={salt}",
            spec["name"],
            "-",
            # Docker refuses an empty secret: an optional one left unset is a line break,
            # which the app reads as empty (config/env.py strips it).
            input=value or "\n",
        )
        if existing:
            say(
                f"{variable} is not the value the stack runs with: created {spec['name']}; "
                "the services that use it move to it on this deploy"
            )
        else:
            say(f"created the secret {spec['name']} from {variable}")


def remove_unused_versions(config: dict) -> None:
    """Other versions of the secrets `config` names, once it is deployed: Docker refuses to
    remove one that a service still uses (the migrate job, say), which then stays until a
    later deploy."""
    for spec in config.get("secrets", {}).values():
        base = spec["name"].rpartition("_v")[0]
        for number in versions(base):
            name = f"{base}_v{number}"
            if name != spec["name"] and docker("secret", "rm", name, check=False).returncode == 0:
                say(f"removed {name}, which no service uses any more")
