"""A throwaway PostgreSQL cluster: initdb in a temporary folder, a free port, gone afterwards.

    python -m harness.postgres -- pytest -m "not docker"

runs the command with DJANGO_DB_HOST, DJANGO_DB_PORT and POSTGRES_* pointing at the cluster,
so that nothing depends on a server that happens to be running on the machine.
"""

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness.binaries import find_postgres_bin
from harness.project import free_port


def another_connection(settings: dict) -> psycopg.Connection:
    """A connection of its own, in autocommit, to the database of a Django connection's
    settings_dict: what another process (a migrate job, an administrator) would open."""
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
        autocommit=True,
    )


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    user: str
    password: str
    database: str

    ca: Path  # the CA that signed the server's certificate

    def environ(self) -> dict[str, str]:
        """The variables the settings read to connect to this cluster, and its CA."""
        return {
            "DJANGO_DB_HOST": self.host,
            "DJANGO_DB_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DB": self.database,
            "HARNESS_POSTGRES_CA": str(self.ca),
        }


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI runs as root, so drop to `postgres`.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def server_certificate(workdir: Path) -> tuple[Path, Path]:
    """ca.crt (a CA made for this cluster) and the server's certificate for 127.0.0.1 that it
    signed, with its key (the server's to read only), made by openssl (PostgreSQL's Debian
    packages bring it)."""
    openssl = lambda *args: subprocess.run(  # noqa: E731
        ["openssl", *args], cwd=workdir, check=True, capture_output=True
    )
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req",
        "-x509",
        *curve,
        "-days",
        "2",
        "-subj",
        "/CN=throwaway CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    )
    openssl("req", *curve, "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    (workdir / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    )
    key = workdir / "server.key"
    key.chmod(0o600)
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(key, postgres.pw_uid, postgres.pw_gid)
    return workdir / "server.crt", key


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    initdb, pg_ctl = find_postgres_bin("initdb"), find_postgres_bin("pg_ctl")
    if not (initdb and pg_ctl):
        sys.exit("PostgreSQL is not installed: apt-get install postgresql")
    workdir = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(workdir, postgres.pw_uid, postgres.pw_gid)
    data, sockets = workdir / "data", workdir
    superuser_password = secrets.token_urlsafe(16)
    cluster = Cluster(
        "127.0.0.1", free_port(), "app", secrets.token_urlsafe(16), "app", workdir / "ca.crt"
    )
    pwfile = workdir / "pwfile"
    pwfile.write_text(superuser_password)
    if os.geteuid() == 0:
        os.chown(pwfile, postgres.pw_uid, postgres.pw_gid)
    run = lambda command: subprocess.run(  # noqa: E731
        _as_postgres_user(command), check=True, stdout=subprocess.DEVNULL
    )
    run(
        [
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
        ]
    )
    # TLS as a managed database offers it, with a certificate for 127.0.0.1 from a CA of its
    # own (HARNESS_POSTGRES_CA), so that libpq's verify-full can be tried against it.
    certificate, key = server_certificate(workdir)
    # Durability is not under test here: fsync off makes the suite much faster.
    options = (
        f"-p {cluster.port} -k {sockets} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        f"-c ssl=on -c ssl_cert_file={certificate} -c ssl_key_file={key}"
    )
    run([pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "server.log"), "-w", "start"])
    try:
        env = {**os.environ, "PGPASSWORD": superuser_password}
        # Statements on stdin, one transaction each, so that no password sits on a command line.
        sql = (
            f"CREATE ROLE {cluster.user} LOGIN CREATEDB PASSWORD '{cluster.password}';\n"
            f"CREATE DATABASE {cluster.database} OWNER {cluster.user};\n"
        )
        subprocess.run(
            [
                "psql",
                "-h",
                cluster.host,
                "-p",
                str(cluster.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-f",
                "-",
            ],
            check=True,
            env=env,
            input=sql,
            text=True,
        )
        yield cluster
    finally:
        run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        sys.exit(__doc__)
    with throwaway_cluster() as cluster:
        print(f"throwaway PostgreSQL on {cluster.host}:{cluster.port}", flush=True)
        return subprocess.run(command, env={**os.environ, **cluster.environ()}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
