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
    """A slow, salted hash of the value (scrypt): labels are readable through the Docker API
    of a manager, and a password chosen by a person must not be guessable from them."""
    return hashlib.scrypt(value.encode(), salt=salt.encode(), n=2**14, r=8, p=1).hex()


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


def holds(labels: dict, value: str) -> bool:
    return labels.get(FINGERPRINT) == fingerprint(value, labels.get(SALT, ""))


def ensure_secrets(config: dict, stack: str) -> None:
    """Every secret the stack file uses exists with the value the environment or .env holds
    now, as its latest version, and the stack file names that version. A value that differs
    from the latest is a new version, even one that an older version held: going back to an
    old value is said out loud like any other change."""
    for secret, spec in config.get("secrets", {}).items():
        if "file" in spec:
            continue  # from a file (nginx's certificate): the deploy creates it
        variable, base = variable_of(secret), spec["name"]
        value = setting(variable)
        if not value and variable not in optional_secrets():
            raise SwarmError(
                f"{variable} is not set. Set it in the environment or in .env "
                "(`make env` creates .env from .env.example with fresh secrets)."
            )
        existing = versions(base)
        latest = max(existing, default=0)
        if latest and holds(existing[latest], value):
            spec["name"] = f"{base}_v{latest}"
            continue
        spec["name"] = f"{base}_v{latest + 1}"
        if not create(spec["name"], value):
            # Another deploy made this version a moment ago: fine if with the same value.
            if not holds(versions(base).get(latest + 1, {}), value):
                raise SwarmError(
                    f"{spec['name']} was just created by another deploy with another value of "
                    f"{variable}: run this one again once that one is done"
                )
            continue
        if latest:
            say(
                f"{variable} is not the value the stack runs with: created {spec['name']}; "
                "the services that use it move to it on this deploy"
            )
        elif unversioned(base):
            say(
                f"created {spec['name']} from {variable} in place of {base}, which came from "
                "a release without versions (swarm/README.md, Upgrading): the value in .env "
                "must be the one the stack has been running with"
            )
        else:
            say(f"created the secret {spec['name']} from {variable}")


def create(name: str, value: str) -> bool:
    """A new secret holding `value`; False if one of that name exists already."""
    salt = random.token_hex(16)
    result = docker(
        "secret",
        "create",
        "--label",
        f"{FINGERPRINT}={fingerprint(value, salt)}",
        "--label",
        f"{SALT}={salt}",
        name,
        "-",
        # Docker refuses an empty secret: an optional one left unset is a line break, which
        # the app reads as empty (config/env.py strips it).
        input=value or "\n",
        check=False,
    )
    if result.returncode == 0:
        return True
    if "already exists" in result.stderr:
        return False
    raise SwarmError(f"docker secret create {name} failed: {result.stderr.strip()}")


def unversioned(base: str) -> bool:
    names = docker("secret", "ls", "--filter", f"name={base}", "--format", "{{.Name}}")
    return base in names.stdout.split()


def remove_unused_versions(config: dict) -> None:
    """Other versions of the secrets `config` names, and the unversioned secret of a release
    before versions, once `config` is deployed. Docker refuses to remove one that a service
    still uses (the migrate job, say): that one goes on a later deploy."""
    for spec in config.get("secrets", {}).values():
        if "file" in spec:
            remove_other_file_versions(spec["name"])
            continue
        base = spec["name"].rpartition("_v")[0]
        others = [f"{base}_v{number}" for number in versions(base)]
        if unversioned(base):
            others.append(base)
        for name in others:
            if name != spec["name"] and docker("secret", "rm", name, check=False).returncode == 0:
                say(f"removed {name}, which no service uses any more")


def remove_other_file_versions(name: str) -> None:
    """The other versions of a secret made from a file, named <base>_<hash of the files>."""
    base = name.rpartition("_")[0]
    names = docker("secret", "ls", "--filter", f"name={base}_", "--format", "{{.Name}}")
    pattern = re.compile(rf"{re.escape(base)}_[0-9a-f]+")
    for other in names.stdout.split():
        removable = other != name and pattern.fullmatch(other)
        # Docker refuses one a service still uses: that one goes on a later deploy.
        if removable and docker("secret", "rm", other, check=False).returncode == 0:
            say(f"removed {other}, which no service uses any more")
