"""The ceilings, started beside the product's stack: a bare nginx serving the static root from
disk, and the hello app under the project's gunicorn settings behind the project's nginx site.
Built from harness/stack.py's parts, so that they run exactly as the product does."""

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.project import clean_environ, free_port
from harness.stack import (
    nginx_main_config,
    render_nginx_site,
    running,
    start_gunicorn,
)


def nginx_binary() -> str:
    path = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if not path:
        raise SystemExit("nginx is not installed: apt-get install nginx")
    return path


def bare_site(*, port: int, static_root: Path, media_root: Path, workdir: Path) -> str:
    """The least nginx needs to serve the static root, and the media root at /media/ (the
    bench's own: the product serves it to no one): no gzip, no headers, no proxy."""
    temp = "\n".join(
        f"{kind}_temp_path {workdir}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{temp}
server {{
    listen 127.0.0.1:{port} default_server;
    location /static/ {{
        alias {static_root}/;
    }}
    location /media/ {{
        alias {media_root}/;
    }}
}}
"""


@contextlib.contextmanager
def nginx(workdir: Path, *, port: int, site: str) -> Iterator[str]:
    """nginx with the stack's main configuration and `site`; yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    site_file = workdir / "site.conf"
    site_file.write_text(site)
    main = workdir / "nginx.conf"
    main.write_text(nginx_main_config(workdir, site_file))
    command = [nginx_binary(), "-c", str(main), "-e", str(workdir / "nginx-error.log")]
    url = f"http://127.0.0.1:{port}"
    with running(command, os.environ.copy(), workdir / "nginx.log", f"{url}/"):
        yield url


@contextlib.contextmanager
def bare_nginx(workdir: Path, *, static_root: Path, media_root: Path) -> Iterator[str]:
    port = free_port()
    site = bare_site(port=port, static_root=static_root, media_root=media_root, workdir=workdir)
    with nginx(workdir, port=port, site=site) as url:
        yield url


@dataclass(frozen=True)
class Hello:
    direct_url: str  # gunicorn itself
    url: str  # through the project's nginx site
    gunicorn_pid: int  # the master


@contextlib.contextmanager
def hello_ceiling(
    workdir: Path, *, static_root: Path, overrides: dict[str, str]
) -> Iterator[Hello]:
    """config.wsgi with the hello settings, started the way the stack starts the product's
    gunicorn, with the same worker count and the same gunicorn overrides."""
    workdir.mkdir(parents=True, exist_ok=True)
    gunicorn_port, nginx_port = free_port(), free_port()
    gunicorn_overrides = {
        name: value
        for name, value in overrides.items()
        if name.startswith("GUNICORN_") or name == "WEB_CONCURRENCY"
    }
    env = clean_environ(DJANGO_SETTINGS_MODULE="bench.hello.settings", **gunicorn_overrides)
    site = render_nginx_site(
        workdir,
        listen_port=nginx_port,
        upstream=f"127.0.0.1:{gunicorn_port}",
        static_root=static_root,
        media_root=workdir,
    )
    with (
        start_gunicorn(env, gunicorn_port, workdir / "gunicorn.log") as gunicorn,
        nginx(workdir / "nginx", port=nginx_port, site=site) as url,
    ):
        yield Hello(
            direct_url=f"http://127.0.0.1:{gunicorn_port}", url=url, gunicorn_pid=gunicorn.pid
        )
