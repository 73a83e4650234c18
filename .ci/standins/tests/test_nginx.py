"""nginx:1.30 as compose.yaml runs it: what the stack relies on (see ../README.md)."""

import re
import time

import pytest

from conftest import NGINX, docker, inspect, require, wait_until

# compose.yaml's hardening of the nginx service; every container here runs with it.
CAPS = ("CHOWN", "DAC_OVERRIDE", "NET_BIND_SERVICE", "SETGID", "SETUID")
HARDENED = ["--security-opt=no-new-privileges:true", "--cap-drop=ALL"]
HARDENED += [f"--cap-add={cap}" for cap in CAPS]

SITE = """
server {
    listen 8081;
    root /srv/site;
    location = /ok { return 200 "ok\\n"; }
    # Bodies this large go through a temporary file of the worker's.
    location = /upload { proxy_pass http://127.0.0.1:8081/ok; }
}
"""


@pytest.fixture(scope="module", autouse=True)
def image():
    require(NGINX)


def start(engine, *options):
    name = engine.run(NGINX, options=[*HARDENED, *options])
    wait_until(lambda: curl(name, "http://127.0.0.1/").returncode == 0, 30, f"{name} answers")
    return name


def curl(name, url, *options):
    return docker("exec", name, "curl", "-fsS", *options, url, check=False)


def mounts(folder, files):
    """Write {container path: (mode, text)} into folder; the options that mount them."""
    options = []
    for path, (mode, text) in files.items():
        host = folder / path.strip("/").replace("/", "_")
        host.write_text(text)
        host.chmod(mode)
        options.append(f"--volume={host}:{path}:ro")
    return options


def test_has_tls_http2_and_what_the_certificate_watcher_runs():
    """https.conf's TLS and HTTP/2, and docker/nginx/reload-on-new-certificate.sh's tools."""
    built = docker("run", "--rm", NGINX, "nginx", "-V").stderr
    assert "--with-http_ssl_module" in built
    assert "--with-http_v2_module" in built
    tools = docker(
        "run", "--rm", "--entrypoint", "sh", NGINX, "-c", "command -v cksum && command -v sleep"
    )
    assert len(tools.stdout.split()) == 2


def test_version_has_upstream_resolve(tmp_path):
    """nginx is 1.27.3 or later: `server NAME resolve;` in an upstream is accepted."""
    version = docker("run", "--rm", NGINX, "nginx", "-v").stderr
    assert tuple(map(int, re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version).groups())) >= (1, 27, 3)
    conf = "resolver 127.0.0.11;\nupstream app { zone app 64k; server app.invalid:8001 resolve; }\n"
    conf_d = mounts(tmp_path, {"/etc/nginx/conf.d/resolve.conf": (0o644, conf)})
    docker("run", "--rm", *conf_d, NGINX, "nginx", "-t")


def test_conf_d_is_served_and_logs_go_to_stdout_and_stderr(engine, tmp_path):
    """conf.d/*.conf is included; access log on stdout, errors on stderr; curl is there."""
    site = {
        "/etc/nginx/conf.d/site.conf": (0o644, SITE),
        "/srv/site/index.html": (0o644, "hello from conf.d\n"),
    }
    name = start(engine, *mounts(tmp_path, site))
    assert curl(name, "http://127.0.0.1:8081/index.html").stdout == "hello from conf.d\n"
    assert curl(name, "http://127.0.0.1:8081/missing").returncode != 0
    upload = curl(name, "http://127.0.0.1:8081/upload", "--data-binary", "x" * 100_000)
    assert upload.stdout == "ok\n"
    time.sleep(0.5)
    logs = docker("logs", name)
    assert '"GET /index.html HTTP/1.1" 200' in logs.stdout
    assert '"POST /upload HTTP/1.1" 200' in logs.stdout
    assert "/srv/site/missing" in logs.stderr
    assert "/srv/site/missing" not in logs.stdout


# Numbered to run before the official image's own scripts render the templates (20-...).
ENTRYPOINT_D = {
    "/docker-entrypoint.d/01-first.sh": (0o755, "#!/bin/sh\necho first >> /tmp/order\n"),
    "/docker-entrypoint.d/05-greeting.envsh": (0o755, "export GREETING=hello-from-envsh\n"),
    "/docker-entrypoint.d/30-not-executable.sh": (0o644, "echo not-executable >> /tmp/order\n"),
    "/docker-entrypoint.d/40-last.sh": (0o755, '#!/bin/sh\necho "last $GREETING" >> /tmp/order\n'),
    "/etc/nginx/templates/greeting.conf.template": (
        0o644,
        "# ${GREETING} ${NOT_SET_ANYWHERE}\n"
        'server { listen 8082; return 200 "${GREETING} $request_method\\n"; }\n',
    ),
}


def test_entrypoint_scripts_then_templates(engine, tmp_path):
    """Executable entrypoint.d scripts run in name order (*.envsh sourced), then templates."""
    name = start(engine, *mounts(tmp_path, ENTRYPOINT_D))
    order = docker("exec", name, "cat", "/tmp/order").stdout
    assert order == "first\nlast hello-from-envsh\n"
    rendered = docker("exec", name, "cat", "/etc/nginx/conf.d/greeting.conf").stdout
    assert rendered.startswith("# hello-from-envsh ${NOT_SET_ANYWHERE}\n")
    assert curl(name, "http://127.0.0.1:8082/").stdout == "hello-from-envsh GET\n"


def test_template_folders_and_suffix_can_be_changed(engine, tmp_path):
    """NGINX_ENVSUBST_TEMPLATE_DIR, _TEMPLATE_SUFFIX and _OUTPUT_DIR move the rendering."""
    name = start(
        engine,
        *mounts(tmp_path, {"/srv/templates/site.tpl": (0o644, "# ${COLOUR}\n")}),
        "--tmpfs=/srv/out",
        "--env=COLOUR=green",
        "--env=NGINX_ENVSUBST_TEMPLATE_DIR=/srv/templates",
        "--env=NGINX_ENVSUBST_TEMPLATE_SUFFIX=.tpl",
        "--env=NGINX_ENVSUBST_OUTPUT_DIR=/srv/out",
    )
    assert docker("exec", name, "cat", "/srv/out/site").stdout == "# green\n"


def test_workers_are_not_root_and_stop_is_graceful(engine):
    """The master drops to unprivileged workers; SIGQUIT (docker stop) ends it at once, cleanly."""
    name = start(engine)
    processes = docker("top", name, "-eo", "pid,uid,args").stdout.splitlines()[1:]
    workers = [line.split() for line in processes if "worker process" in line]
    assert workers
    assert all(uid != "0" for _, uid, *_ in workers)
    assert inspect(NGINX, "{{.Config.StopSignal}}") == "SIGQUIT"
    assert inspect(NGINX, "{{json .Config.Cmd}}") == '["nginx","-g","daemon off;"]'
    started = time.monotonic()
    docker("stop", "--time=30", name)
    assert time.monotonic() - started < 10
    exit_code = docker("container", "inspect", "-f", "{{.State.ExitCode}}", name).stdout
    assert exit_code.strip() == "0"
