"""The stack file: no copy written by hand. `docker compose config` merges compose.yaml,
compose.migrate.yaml and swarm/compose.swarm.yaml, and the result goes to `docker stack
deploy` on stdin. On the way a few things change, because the docker CLI's stack loader reads
an older schema than Compose writes: the top-level `name` goes, published ports and file
modes become numbers, CPU limits strings, networks joined without options empty mappings,
and entries without a value (unset in .env) are left out."""

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

from swarm.engine import SwarmError
from swarm.settings import ROOT, env_file, setting

FILES = ("compose.yaml", "compose.migrate.yaml", "swarm/compose.swarm.yaml")


def compose_config(*services: str, stack: str, environ: dict[str, str]) -> dict:
    command = ["docker", "compose", "--project-directory", str(ROOT), "--project-name", stack]
    if env_file().exists():
        command += ["--env-file", str(env_file())]
    for file in FILES:
        command += ["--file", str(ROOT / file)]
    result = subprocess.run(
        [*command, "config", "--format", "json", *services],
        cwd=ROOT,
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise SwarmError(f"docker compose config failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def project_name() -> str:
    """compose.yaml's top-level `name:`, which names the stack unless SWARM_STACK does."""
    found = re.search(r"^name: *(\S+)$", (ROOT / "compose.yaml").read_text(), re.MULTILINE)
    if not found:
        raise SwarmError("compose.yaml has no top-level name:")
    return found[1]


def stack_name() -> str:
    return setting("SWARM_STACK") or project_name()


def configs_version(stack: str) -> str:
    """Swarm configs and secrets cannot change: new content needs new names. One hash of every
    file the stack mounts as a config or a secret (nginx's certificate) names this version of
    them all."""
    placeholder = compose_config(stack=stack, environ={"SWARM_CONFIGS_VERSION": "0"})
    files = {
        f"{kind}:{name}": spec["file"]
        for kind in ("configs", "secrets")
        for name, spec in placeholder.get(kind, {}).items()
        if "file" in spec
    }
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        if not Path(path).is_file():
            raise SwarmError(f"{path} is missing (nginx's certificate: `make certs` makes one)")
        digest.update(name.encode() + b"\0" + Path(path).read_bytes())
    return digest.hexdigest()[:12]


def stack_config(
    *services: str,
    stack: str,
    image: str | None = None,
    replicas: int | None = None,
    workers: int | None = None,
) -> dict:
    """The merged compose files as `docker stack deploy` reads them, for `services`; web and
    worker with `replicas` and `workers` replicas where given."""
    environ = {"SWARM_CONFIGS_VERSION": configs_version(stack)}
    if image:
        environ["WEB_IMAGE"] = image
    if replicas is not None:
        environ["WEB_REPLICAS"] = str(replicas)
    if workers is not None:
        environ["WORKER_REPLICAS"] = str(workers)
    merged = compose_config(*services, stack=stack, environ=environ)
    # Extension fields (x-…) were only there for the anchors.
    config = {
        key: value for key, value in merged.items() if key != "name" and not key.startswith("x-")
    }
    for spec in config["services"].values():
        # A secret travels as a file only: where NAME_FILE is set, NAME goes (compose would
        # keep it, from compose.yaml or, in the migrate job, through `extends`).
        environment = spec.get("environment", {})
        for name in [name for name in environment if f"{name}_FILE" in environment]:
            del environment[name]
        # A network joined without options is null in compose's output: kept, as a mapping.
        for network, options in spec.get("networks", {}).items():
            spec["networks"][network] = options or {}
        for port in spec.get("ports", []):
            port["published"] = int(port["published"])
        # Compose writes CPUs as a number, the stack loader wants a string.
        for resources in spec.get("deploy", {}).get("resources", {}).values():
            if "cpus" in resources:
                resources["cpus"] = str(resources["cpus"])
        # Compose writes a file mode as an octal string ("0555"), the stack loader wants a number.
        for mounted in (*spec.get("configs", []), *spec.get("secrets", [])):
            if isinstance(mounted.get("mode"), str):
                mounted["mode"] = int(mounted["mode"], 8)
    return without_nulls(config)


def without_nulls(value):
    """Entries without a value (a variable unset in .env) are left out: the stack loader would
    fill them from the shell of whoever deploys."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def long_running(config: dict) -> list[str]:
    """The services that keep running, as the stack file has them: not the jobs, and not the
    database where SWARM_DB_HOST names a managed one instead."""
    external_db = setting("SWARM_DB_HOST", "db") != "db"
    return [
        name
        for name, spec in config["services"].items()
        if spec.get("deploy", {}).get("mode") != "replicated-job"
        and not (external_db and name == "db")
    ]
