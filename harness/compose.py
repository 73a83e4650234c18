"""The project's compose files, unmodified, on a real Docker engine: each test suite in a compose
project of its own (never a developer's stack), configured by an env file of its own (never
the developer's .env), on ports of its own."""

import json
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from decouple import RepositoryEnv

from harness.project import ROOT, clean_environ, django_script, free_port, project_name
from harness.tls import Certificates, make_certificates

DEV = ("compose.yaml", "compose.override.yaml")
PROD = ("compose.yaml",)
MIGRATE = ("compose.migrate.yaml",)
# psql in the db container as the cluster's superuser, over its local socket (no password):
# the SQL on stdin, bare values out.
PSQL = ("sh", "-c", 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -Atq')
# The ports the compose files publish, by the variable that sets each.
PORT_VARIABLES = (
    "NGINX_PORT",
    "NGINX_HTTPS_PORT",
    "WEB_PORT",
    "POSTGRES_PORT",
    "PGADMIN_PORT",
    "MAILPIT_PORT",
)


class CommandFailed(AssertionError):
    """A docker or compose command that had to succeed did not; the message has its output."""


def docker(*args: str, check: bool = True, timeout: float = 120, **kwargs):
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    if check and result.returncode != 0:
        raise CommandFailed(f"docker {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_image_alone(image: str, *options: str) -> str:
    """Starts the web image by itself, on SQLite, with `options` for `docker run` (a published
    port, limits); returns the container's id. The secret key comes from this process's
    environment, never the command line."""
    return docker(
        "run", "--detach", *options,
        "--env", "DJANGO_SECRET_KEY", "--env", "DJANGO_SQLITE_PATH=/tmp/db.sqlite3",
        "--env", "DJANGO_ENV_FILE=", image,
        env=clean_environ(DJANGO_SECRET_KEY=secrets.token_urlsafe(50)),
    ).stdout.strip()  # fmt: skip


def network_gateway(network: str) -> str:
    """The address of a Docker network's gateway: where the host's clients come from."""
    gateway = docker(
        "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", network
    ).stdout.strip()
    assert gateway, f"the network {network} has no gateway"
    return gateway


def engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def write_env_file(path: Path) -> dict[str, str]:
    """An env file as `make env` makes it (fresh secrets); returns its values."""
    subprocess.run(
        ["python3", "scripts/make_env.py", "--target", str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return RepositoryEnv(str(path)).data


@dataclass
class Compose:
    """One compose project: `suffix` names it after the project (<name>-<suffix>), and its
    images too. Published ports are free ones, unless given. `settings` are variables the
    test sets in compose's environment, over the env file. nginx's certificate is one that
    `make certs` made beside the env file (NGINX_CERTS_DIR), unless `settings` name another."""

    suffix: str
    env_file: Path
    files: tuple[str, ...] = PROD
    directory: Path = ROOT
    ports: dict[str, int] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        # HARNESS_PROJECT sets another prefix: two checkouts of one project on one engine.
        self.name = f"{os.environ.get('HARNESS_PROJECT') or project_name()}-{self.suffix}"
        self.ports = {name: self.ports.get(name) or free_port() for name in PORT_VARIABLES}
        self.values = RepositoryEnv(str(self.env_file)).data
        if "NGINX_CERTS_DIR" not in self.settings:
            certs = self.env_file.parent / "certs"
            if not (certs / "fullchain.pem").exists():
                make_certificates(certs)
            self.settings["NGINX_CERTS_DIR"] = str(certs)
        self.certificates = Certificates(
            Path(self.settings["NGINX_CERTS_DIR"]), self.env_file.parent / "local-ca"
        )

    @property
    def image(self) -> str:
        return f"{self.name}-web:latest"

    def url(self, variable: str = "NGINX_PORT") -> str:
        return f"http://127.0.0.1:{self.ports[variable]}"

    def https_url(self, host: str = "localhost") -> str:
        """nginx over https, by a name its certificate holds (localhost, 127.0.0.1)."""
        return f"https://{host}:{self.ports['NGINX_HTTPS_PORT']}"

    def environ(self, **extra: str) -> dict[str, str]:
        """What compose (and make) run with: the project, its env file and ports, and no
        variable of the caller's own."""
        return clean_environ(
            COMPOSE_PROJECT_NAME=self.name,
            DJANGO_ENV_FILE=str(self.env_file),
            **{name: str(port) for name, port in self.ports.items()},
            **self.settings,
            **extra,
        )

    def command(self, *args: str, files=None) -> list[str]:
        command = ["docker", "compose", "--project-directory", str(self.directory)]
        command += ["--env-file", str(self.env_file), "-p", self.name]
        for file in files or self.files:
            command += ["-f", str(self.directory / file)]
        return [*command, *args]

    def run(
        self,
        *args: str,
        files=None,
        check: bool = True,
        timeout: float = 300,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """`docker compose ARGS`; a failure shows the output and the services' last logs."""
        result = subprocess.run(
            self.command(*args, files=files),
            env=env or self.environ(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            logs = self.run("logs", "--no-color", "--tail", "40", files=files, check=False)
            raise CommandFailed(
                f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n--- service logs ---\n{logs.stdout}"
            )
        return result

    def popen(self, *args: str, files=None) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args, files=files),
            env=self.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def up(self, *services: str, files=None, timeout: float = 240) -> None:
        self.run(
            "up",
            "--detach",
            "--wait",
            "--wait-timeout",
            str(int(timeout - 30)),
            *services,
            files=files,
            timeout=timeout,
        )

    def down(self, *, volumes: bool = False, files=None) -> None:
        self.run("down", "--remove-orphans", *(["--volumes"] if volumes else []), files=files)

    def migrate(self, files=None, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(
            "run", "--rm", "migrate", files=(*(files or self.files), *MIGRATE), check=check
        )

    def container(self, service: str, files=None) -> str:
        found = self.run("ps", "--all", "--quiet", service, files=files).stdout.split()
        assert found, f"no {service} container in {self.name}"
        return found[0]

    def inspect(self, service: str, template: str) -> str:
        return docker("inspect", "-f", template, self.container(service)).stdout.strip()

    def sql(self, sql: str, files=None) -> str:
        """psql in the db container as the cluster's superuser; the SQL goes in on stdin."""
        return self.run(
            "exec", "-T", "db", *PSQL, files=files, input=sql, timeout=60
        ).stdout.strip()

    def django(self, script: str, files=None, **params: str):
        """harness/scripts/<script>.py run by `manage.py shell` in the web container; its
        parameters travel in the environment (-e NAME takes the value from it); returns the
        JSON the script printed last."""
        names = [arg for name in params for arg in ("-e", name)]
        result = self.run(
            "exec",
            "-T",
            *names,
            "web",
            "python",
            "manage.py",
            "shell",
            "--no-imports",
            files=files,
            input=django_script(script),
            env=self.environ(**params),
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def trust_the_host_as_proxy(self, files=None) -> str:
        """nginx recreated to believe what this machine's clients say about the client and
        its scheme (NGINX_TRUSTED_PROXIES): they reach it from the gateway of the project's
        network, as a TLS-terminating proxy on the host would. Returns that address."""
        gateway = network_gateway(f"{self.name}_default")
        self.settings["NGINX_TRUSTED_PROXIES"] = gateway
        self.up("nginx", files=files)
        return gateway

    def logs(self, files=None) -> str:
        return self.run("logs", "--no-color", files=files).stdout

    def make(self, *args: str, timeout: float = 600, check: bool = True, **extra: str):
        """A make target of the project's, run against this compose project."""
        result = subprocess.run(
            ["make", *args],
            cwd=self.directory,
            env=self.environ(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise CommandFailed(f"make {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result
