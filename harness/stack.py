"""The production-like stack without Docker: the project's gunicorn settings and nginx config,
on loopback, in front of PostgreSQL. What runs is what the containers run; only addresses
and paths differ."""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from harness.accounts import Account
from harness.binaries import require
from harness.project import ROOT, clean_environ, free_port, manage
from harness.tls import Certificates, make_certificates
from harness.waiting import wait_until

NGINX = ROOT / "docker" / "nginx"
NGINX_SITE = NGINX / "default.conf"
APP = NGINX / "app.conf"
HTTPS = NGINX / "https.conf"
HTTP_TO_HTTPS = NGINX / "http-to-https.conf"
PLAIN_HTTP_ONLY = NGINX / "plain-http-only.conf"
STATIC_FILES = NGINX / "static-files.conf"
PRIVATE_MEDIA = NGINX / "private-media.conf"
SERVER_NAMES_SCRIPT = NGINX / "server-names.sh"
TRUSTED_PROXIES_SCRIPT = NGINX / "trusted-proxies.sh"
HTTPS_REDIRECT_SCRIPT = NGINX / "https-redirect.sh"
UPLOAD_LIMIT_SCRIPT = NGINX / "upload-limit.sh"


@dataclass(frozen=True)
class Stack:
    url: str  # through nginx, plain http
    gunicorn_url: str  # gunicorn directly, as nginx reaches it
    superuser: Account  # created by the data migration, from DJANGO_SUPERUSER_*
    env: dict[str, str]
    logs: Path
    gunicorn_pid: int  # the master

    def log(self, name: str) -> str:
        return (self.logs / name).read_text(errors="replace")

    @property
    def media(self) -> Path:
        """The folder that stands for the media volume (DJANGO_MEDIA_ROOT)."""
        return Path(self.env["DJANGO_MEDIA_ROOT"])

    def gunicorn_rss(self) -> dict[int, int]:
        """The resident memory of gunicorn's master and each worker: {pid: KiB}."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if int(entry.name) == self.gunicorn_pid or parent == self.gunicorn_pid:
                    status = (entry / "status").read_text()
                    found[int(entry.name)] = int(status.split("VmRSS:")[1].split()[0])
        return found

    def database(self) -> psycopg.Connection:
        """A connection to the stack's database as the cluster's superuser, outside the app."""
        return psycopg.connect(
            host=self.env["DJANGO_DB_HOST"],
            port=self.env["DJANGO_DB_PORT"],
            user=self.env["POSTGRES_USER"],
            password=self.env["POSTGRES_PASSWORD"],
            dbname=self.env["POSTGRES_DB"],
            autocommit=True,
        )


def postgres_environ() -> dict[str, str]:
    """The cluster that `make test-postgres` started, or a failure saying how to get one."""
    keys = ("DJANGO_DB_HOST", "DJANGO_DB_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    if not os.environ.get("DJANGO_DB_HOST"):
        require(
            None,
            "A PostgreSQL cluster for this test (run it with `make test-postgres`)",
            "postgresql",
        )
    return {key: os.environ[key] for key in keys}


def write_runtime_files(
    directory: Path,
    *,
    allowed_hosts: str | None = None,
    trusted_proxies: str = "",
    https_port: int | None = None,
    max_upload_mb: str | None = None,
) -> Path:
    """What docker/nginx/server-names.sh, trusted-proxies.sh, https-redirect.sh and
    upload-limit.sh write in the nginx container at each start (/run/nginx/ there):
    `server_name` for DJANGO_ALLOWED_HOSTS (Django's default list when None), the proxies of
    NGINX_TRUSTED_PROXIES (none when empty), the redirect to https on `https_port`, and the
    body limit for DJANGO_MAX_UPLOAD_MB (Django's default when None)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NGINX_RUNTIME_DIR": str(directory),
        "NGINX_TRUSTED_PROXIES": trusted_proxies,
        "NGINX_HTTPS_PORT": str(https_port or 443),
    }
    if allowed_hosts is not None:
        env["DJANGO_ALLOWED_HOSTS"] = allowed_hosts
    if max_upload_mb is not None:
        env["DJANGO_MAX_UPLOAD_MB"] = max_upload_mb
    scripts = (
        SERVER_NAMES_SCRIPT,
        TRUSTED_PROXIES_SCRIPT,
        HTTPS_REDIRECT_SCRIPT,
        UPLOAD_LIMIT_SCRIPT,
    )
    for script in scripts:
        subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True)
    return directory


def replace_once(path: Path, replacements: dict[str, str]) -> str:
    text = path.read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{path} no longer contains {old!r} once"
        text = text.replace(old, new)
    return text


def nginx_speaks_http2_directive(nginx: str) -> bool:
    """`http2 on;` came with nginx 1.25.1; before it, HTTP/2 was a `listen` parameter."""
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version)
    return bool(found) and tuple(map(int, found.groups())) >= (1, 25, 1)


def render_nginx_site(
    workdir: Path,
    *,
    listen_port: int,
    upstream: str,
    static_root: Path,
    media_root: Path,
    allowed_hosts: str | None = None,
    trusted_proxies: str = "",
    https_port: int | None = None,
    certificates: Certificates | None = None,
    http2_directive: bool = True,
    max_upload_mb: str | None = None,
) -> str:
    """The project's nginx site with loopback addresses in place of the compose names, the
    static and media folders in place of the volumes, and folders of `workdir` where the
    container has its tmpfs: /run/nginx/ (the files its start-up scripts write, written here by
    the same scripts) and /var/cache/nginx/.

    Without `https_port`, plain http serves the app, as the development override has it. With
    it (and `certificates`), as production has it: https.conf on that port, and plain http
    redirected there. `http2_directive` false: an nginx older than 1.25.1."""
    static_files = workdir / "static-files.conf"
    static_files.write_text(
        replace_once(STATIC_FILES, {"alias /srv/static/;": f"alias {static_root}/;"})
    )
    private_media = workdir / "private-media.conf"
    private_media.write_text(
        replace_once(PRIVATE_MEDIA, {"alias /srv/media/;": f"alias {media_root}/;"})
    )
    runtime = write_runtime_files(
        workdir / "run",
        allowed_hosts=allowed_hosts,
        trusted_proxies=trusted_proxies,
        https_port=https_port,
        max_upload_mb=max_upload_mb,
    )
    app = workdir / "app.conf"
    app.write_text(
        replace_once(
            APP,
            {
                "include /etc/nginx/static-files.conf;": f"include {static_files};",
                "include /etc/nginx/private-media.conf;": f"include {private_media};",
                "include /run/nginx/upload-limit.conf;": f"include {runtime}/upload-limit.conf;",
            },
        )
    )
    http_to_https = workdir / "http-to-https.conf"
    if https_port:
        (workdir / "acme").mkdir(parents=True, exist_ok=True)
        http_to_https.write_text(
            replace_once(
                HTTP_TO_HTTPS,
                {
                    "root /var/www/acme;": f"root {workdir / 'acme'};",
                    "include /run/nginx/": f"include {runtime}/",
                },
            )
        )
    else:
        http_to_https.write_text(PLAIN_HTTP_ONLY.read_text())
    site = replace_once(
        NGINX_SITE,
        {
            "listen 80 default_server;": f"listen 127.0.0.1:{listen_port} default_server;",
            "listen 80;": f"listen 127.0.0.1:{listen_port};",
            "include /etc/nginx/http-to-https.conf;": f"include {http_to_https};",
            "include /etc/nginx/app.conf;": f"include {app};",
            "server web:8001 resolve fail_timeout=1s;": f"server {upstream};",
        },
    )
    includes, temp_paths = "include /run/nginx/", "_temp_path /var/cache/nginx/"
    assert site.count(includes) == 3, f"{NGINX_SITE} no longer includes three runtime files"
    assert site.count(temp_paths) == 5, f"{NGINX_SITE} no longer sets five temporary folders"
    (workdir / "cache").mkdir(parents=True, exist_ok=True)
    site = site.replace(includes, f"include {runtime}/").replace(
        temp_paths, f"_temp_path {workdir}/cache/"
    )
    if https_port:
        assert certificates, "https needs a certificate"
        http2 = "" if http2_directive else " http2"
        https = replace_once(
            HTTPS,
            {
                "listen 443 ssl default_server;": (
                    f"listen 127.0.0.1:{https_port} ssl{http2} default_server;"
                ),
                "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl{http2};",
                "include /run/nginx/": f"include {runtime}/",
                "include /etc/nginx/app.conf;": f"include {app};",
                "ssl_certificate /etc/nginx/certs/": f"ssl_certificate {certificates.directory}/",
                "ssl_certificate_key /etc/nginx/certs/": (
                    f"ssl_certificate_key {certificates.directory}/"
                ),
            },
        )
        if not http2_directive:
            assert https.count("    http2 on;\n") == 2, f"{HTTPS} no longer has two http2 lines"
            https = https.replace("    http2 on;\n", "")
        site += "\n" + https
    return site


def nginx_main_config(workdir: Path, site: Path) -> str:
    """The nginx image's main configuration, as far as the site relies on it (the site sets
    its own temporary folders)."""
    user = "user root root;" if os.geteuid() == 0 else ""
    return f"""{user}
daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log notice;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {workdir}/nginx-access.log;
    include {site};
}}
"""


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited early:\n{log.read_text()}")
        with contextlib.suppress(requests.ConnectionError):
            requests.get(url, timeout=2)
            return True
        return False

    wait_until(answers, timeout=timeout, interval=0.1, message=f"{url} did not answer")


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path, ready_url: str):
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(ready_url, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def start_gunicorn(env: dict[str, str], port: int, log: Path):
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:config.gunicorn",
        "config.wsgi",
    ]
    # Two workers keep the tests light on any machine (WEB_CONCURRENCY in `env` wins).
    env = {"WEB_CONCURRENCY": "2", **env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    return running(command, env, log, f"http://127.0.0.1:{port}/health/")


def start_nginx(
    workdir: Path,
    port: int,
    upstream: str,
    static_root: Path,
    *,
    media_root: Path | None = None,
    trusted_proxies: str = "",
    https_port: int | None = None,
    certificates: Certificates | None = None,
    max_upload_mb: str | None = None,
):
    """Debian's nginx with the project's site config, in front of `upstream`;
    `trusted_proxies` as NGINX_TRUSTED_PROXIES would set them; https on `https_port` with
    `certificates` (plain http then redirects there), as in production. Without `media_root`,
    an empty folder stands for the media volume."""
    nginx = require(
        shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin"), "nginx", "nginx"
    )
    workdir.mkdir(parents=True, exist_ok=True)
    if media_root is None:
        media_root = workdir / "media"
        media_root.mkdir(exist_ok=True)
    site = workdir / "site.conf"
    site.write_text(
        render_nginx_site(
            workdir,
            listen_port=port,
            upstream=upstream,
            static_root=static_root,
            media_root=media_root,
            trusted_proxies=trusted_proxies,
            https_port=https_port,
            certificates=certificates,
            http2_directive=nginx_speaks_http2_directive(nginx),
            max_upload_mb=max_upload_mb,
        )
    )
    main = workdir / "nginx.conf"
    main.write_text(nginx_main_config(workdir, site))
    command = [nginx, "-c", str(main), "-e", str(workdir / "nginx-error.log")]
    return running(
        command, os.environ.copy(), workdir / "nginx.log", f"http://127.0.0.1:{port}/nginx-health"
    )


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[dict[str, str]]:
    """A new, empty database on the throwaway cluster, dropped afterwards: the cluster's
    environment (postgres_environ) with POSTGRES_DB naming it."""
    database = postgres_environ()
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = {
        "host": database["DJANGO_DB_HOST"],
        "port": database["DJANGO_DB_PORT"],
        "user": database["POSTGRES_USER"],
        "password": database["POSTGRES_PASSWORD"],
        "dbname": database["POSTGRES_DB"],
        "autocommit": True,
    }
    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**database, "POSTGRES_DB": name}
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def production_like_stack(workdir: Path, **overrides: str) -> Iterator[Stack]:
    """`overrides` go into the app's environment last (to compare settings, say)."""
    username, password = "admin", secrets.token_urlsafe(18)
    static_root, media_root = workdir / "static", workdir / "media"
    media_root.mkdir(parents=True, exist_ok=True)
    with fresh_database("stack") as database:
        env = clean_environ(
            **database,
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_DEBUG="False",
            # Plain http on loopback, with nobody in front to terminate TLS: production keeps
            # the https redirect and secure cookies on.
            DJANGO_SECURE_COOKIES="False",
            DJANGO_SECURE_SSL_REDIRECT="False",
            DJANGO_STATIC_ROOT=str(static_root),
            # The media volume, sent by nginx as in the containers.
            DJANGO_MEDIA_ROOT=str(media_root),
            DJANGO_MEDIA_X_ACCEL_REDIRECT="True",
            DJANGO_SUPERUSER_USERNAME=username,
            DJANGO_SUPERUSER_EMAIL="admin@example.com",
            DJANGO_SUPERUSER_PASSWORD=password,
        )
        env.update(overrides)
        # What the migrate job does in the containers.
        manage("migrate", "--no-input", env=env)
        manage("collectstatic", "--no-input", env=env)

        gunicorn_port, nginx_port = free_port(), free_port()
        with (
            start_gunicorn(env, gunicorn_port, workdir / "gunicorn.log") as gunicorn,
            start_nginx(
                workdir,
                nginx_port,
                f"127.0.0.1:{gunicorn_port}",
                static_root,
                media_root=media_root,
                max_upload_mb=env.get("DJANGO_MAX_UPLOAD_MB"),
            ),
        ):
            yield Stack(
                url=f"http://127.0.0.1:{nginx_port}",
                gunicorn_url=f"http://127.0.0.1:{gunicorn_port}",
                superuser=Account(username, password),
                env=env,
                logs=workdir,
                gunicorn_pid=gunicorn.pid,
            )


@dataclass(frozen=True)
class TlsStack:
    """The stack's app as production serves it: nginx with https.conf in front of a gunicorn
    with production's https settings (secure cookies, the redirect), on the stack's database."""

    url: str  # plain http, which redirects
    https_url: str
    https_port: int
    certificates: Certificates
    nginx: subprocess.Popen
    acme_root: Path  # the folder certbot's webroot would be

    def reload_nginx(self) -> None:
        """What reload-on-new-certificate.sh does in the container once the files change."""
        subprocess.run([*self.nginx.args, "-s", "reload"], check=True, capture_output=True)


@contextlib.contextmanager
def production_tls(stack: Stack, workdir: Path) -> Iterator[TlsStack]:
    """https beside the stack: a certificate from `make certs`'s script in `workdir`, nginx
    listening with TLS, and gunicorn with the https settings production has by default."""
    certificates = make_certificates(workdir / "certs")
    env = {
        **stack.env,
        "DJANGO_SECURE_COOKIES": "True",
        "DJANGO_SECURE_SSL_REDIRECT": "True",
    }
    gunicorn_port, port, https_port = free_port(), free_port(), free_port()
    with (
        start_gunicorn(env, gunicorn_port, workdir / "gunicorn.log"),
        start_nginx(
            workdir / "nginx",
            port,
            f"127.0.0.1:{gunicorn_port}",
            Path(stack.env["DJANGO_STATIC_ROOT"]),
            https_port=https_port,
            certificates=certificates,
        ) as nginx,
    ):
        yield TlsStack(
            url=f"http://127.0.0.1:{port}",
            https_url=f"https://localhost:{https_port}",
            https_port=https_port,
            certificates=certificates,
            nginx=nginx,
            acme_root=workdir / "nginx" / "acme",
        )
