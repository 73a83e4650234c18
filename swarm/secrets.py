"""Docker secrets, made from the secrets `.env.example` declares: each value goes from the
environment or the env file to `docker secret create` on stdin, never on a command line, and
reaches the containers as a file under /run/secrets/ (read through NAME_FILE)."""

from scripts.make_env import declared_secrets
from swarm.engine import SwarmError, docker, say
from swarm.settings import setting


def variable_of(secret: str) -> str:
    """The stack file names each secret after its variable, in lower case."""
    for name in declared_secrets():
        if name.lower() == secret:
            return name
    raise SwarmError(f"the stack uses a secret {secret!r} that .env.example does not declare")


def ensure_secrets(config: dict, stack: str) -> None:
    """Every secret the stack file uses exists (an existing one is never replaced: a value
    already in a database volume must not change behind it)."""
    existing = set(docker("secret", "ls", "--format", "{{.Name}}").stdout.split())
    for secret, spec in config.get("secrets", {}).items():
        if spec["name"] in existing:
            continue
        variable = variable_of(secret)
        value = setting(variable)
        if not value:
            raise SwarmError(
                f"{variable} is not set. Set it in the environment or in .env "
                "(`make env` creates .env from .env.example with fresh secrets)."
            )
        docker("secret", "create", spec["name"], "-", input=value)
        say(f"created the secret {spec['name']} from {variable}")
