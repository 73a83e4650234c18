"""Faults survived and load held: the production stack (compose.yaml alone) on a real engine,
under load through nginx while its parts fail: the web app before its migrations, a migrate
job, a database restart and a power cut, a gunicorn worker killed, `web` stopped, a soak, a
backup and a restore.

The stack is a compose project of its own (django-starter-faults, nginx on 127.0.0.1:18090),
removed before and after, even when a step fails. The tests run in file order on one stack.
Requests say `X-Forwarded-Proto: https`, as a TLS terminator in front of nginx does, and carry
their cookies themselves (production cookies are Secure-only). Every figure is printed.

FAULTS_SOAK_SECONDS sets the soak's length (default 60; 120 for the full two minutes).
"""

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

from tests.docker.conftest import PSQL, base_images, docker, run_compose, wait_until
from tests.support.project import ROOT, clean_environ

pytestmark = pytest.mark.docker

PROJECT = "django-starter-faults"
WEB_IMAGE = f"{PROJECT}-web:latest"
PORT = 18090
NGINX = f"http://127.0.0.1:{PORT}"
ORIGIN = f"https://127.0.0.1:{PORT}"  # what the browser sees, in front of the TLS terminator
PROD = ("compose.yaml",)
MIGRATE = ("compose.migrate.yaml",)

SOAK_SECONDS = float(os.environ.get("FAULTS_SOAK_SECONDS", "60"))
SOAK_CONNECTIONS = 64
LOAD_CONNECTIONS = 16
# After the database answers again, the app has this long to notice (its connections are
# checked before reuse: settings.CONN_HEALTH_CHECKS).
RECOVERY_GRACE = 2.0
# A client waits as long as nginx waits for gunicorn (proxy_read_timeout): a slow answer is
# reported in the latencies, only a missing or wrong one counts as a failure.
CLIENT_TIMEOUT = 60
# Memory may grow by half, plus this, during the soak (after a warm-up): more is a leak.
RSS_SLACK_KIB = 20 * 1024


# --- Harness ---------------------------------------------------------------------------------


def compose_environ(**extra: str) -> dict[str, str]:
    """Only .env configures the stack (no test values leak in); the project and port are ours."""
    return clean_environ(
        WEB_IMAGE=WEB_IMAGE, COMPOSE_PROJECT_NAME=PROJECT, NGINX_PORT=str(PORT), **extra
    )


def compose(*args: str, files=PROD, **kwargs):
    return run_compose(*args, project=PROJECT, files=files, env=compose_environ(), **kwargs)


def container(service: str) -> str:
    return compose("ps", "--all", "--quiet", service).stdout.split()[0]


def inspect(service: str, template: str) -> str:
    return docker("inspect", "-f", template, container(service)).stdout.strip()


def healthy(service: str) -> bool:
    return inspect(service, "{{if .State.Health}}{{.State.Health.Status}}{{end}}") == "healthy"


def restart_counts() -> dict[str, int]:
    return {s: int(inspect(s, "{{.RestartCount}}")) for s in ("db", "web", "nginx")}


def run_sql(sql: str) -> str:
    """psql in the db container as the cluster's superuser (conftest.PSQL)."""
    return compose(
        "exec",
        "-T",
        "db",
        *PSQL,
        input=sql,
        timeout=60,
    ).stdout.strip()


def migrate():
    return compose("run", "--rm", "migrate", files=PROD + MIGRATE, timeout=300)


# gunicorn's processes in the web container: PID 1 is the master (the image's CMD), the
# workers are its children. The image has no `ps`: /proc says it all.
PROCESSES = """
import os
for pid in sorted(filter(str.isdigit, os.listdir("/proc")), key=int):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        rss = [line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS")]
    except OSError:
        continue
    if "(gunicorn)" in stat or "(python" in stat:
        print(pid, stat.rsplit(")", 1)[1].split()[1], rss[0] if rss else 0)
"""


@dataclass(frozen=True)
class Gunicorn:
    master_rss: int  # KiB
    workers: dict[int, int]  # pid: RSS in KiB

    @property
    def rss(self) -> int:
        return self.master_rss + sum(self.workers.values())


def gunicorn() -> Gunicorn:
    lines = compose("exec", "-T", "web", "python", "-c", PROCESSES).stdout.split("\n")
    rows = [tuple(map(int, line.split())) for line in lines if line.strip()]
    master = [rss for pid, _, rss in rows if pid == 1]
    assert master, f"no gunicorn master as PID 1: {rows}"
    return Gunicorn(master[0], {pid: rss for pid, ppid, rss in rows if ppid == 1})


def container_memory() -> str:
    """What `docker stats` says the web container uses (cgroup memory, page cache included)."""
    return docker(
        "stats", "--no-stream", "--format", "{{.MemUsage}}", container("web")
    ).stdout.strip()


@pytest.fixture
def report(capsys) -> Callable[[str], None]:
    """Prints a figure past pytest's capture, so that it reaches the CI log."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n  [faults] {line}", end="")

    return say


@pytest.fixture(scope="module", autouse=True)
def stack(engine, dotenv):
    """The production stack, fresh volumes, no migration yet; removed afterwards."""
    subprocess.run(
        [sys.executable, str(Path(__file__).parent / "lookalikes.py"), *base_images()], check=True
    )
    compose("build", timeout=900)
    compose("down", "--volumes", "--remove-orphans", files=PROD + MIGRATE, check=False)
    try:
        compose("up", "--detach", "--wait", "--wait-timeout", "180", timeout=240)
        yield
    finally:
        compose("down", "--volumes", "--remove-orphans", files=PROD + MIGRATE, check=False)


# --- Load through nginx ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    start: float
    end: float
    what: str
    status: int | None  # None: no answer at all (connection error, timeout)
    ok: bool
    detail: str = ""  # for a failure: the start of the page, or the client's error


@dataclass(frozen=True)
class Visitor:
    """A browser signed in as one user: its session cookie, its list, its CSRF secret (Django
    accepts any well-formed secret in the cookie when the form repeats it)."""

    session: str
    list_pk: int
    csrf: str
    signed_in: bool = True

    @property
    def cookie(self) -> str:
        return f"sessionid={self.session}; csrftoken={self.csrf}"

    def step(self, n: int, *, writes: bool) -> tuple[str, str, dict | None, set[int]]:
        """The n-th request of a visit: the to-do pages, the admin's sign-in page, and now and
        then a new item (method, path, form data, the statuses that count as success)."""
        lists = f"/lists/{self.list_pk}/"
        if writes and n % 10 == 9:
            title = f"Item {n}"
            return "POST", lists, {"title": title, "csrfmiddlewaretoken": self.csrf}, {302}
        path = ["/", lists, f"{lists}board/", "/admin/login/", f"{lists}?page=last"][n % 5]
        # Signed out, the to-do pages send the visitor to the sign-in page.
        return "GET", path, None, {200} if self.signed_in else {200, 302}


def visitors(count: int) -> list[Visitor]:
    """`count` users, each signed in with a list of five items; made by the app's own code in
    the web container, as `manage.py shell` would (no password, no sign-in form: nginx limits
    sign-in POSTs per client)."""
    script = f"""
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import User
from todo import services
made = []
for i in range({count}):
    user = User.objects.create_user("load-{secrets.token_hex(3)}-%d" % i)
    todo_list = services.todo_list_create(owner=user, name="List %d" % i)
    for n in range(5):
        services.item_create(todo_list=todo_list, title="Item %d" % n)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    made.append([session.session_key, todo_list.pk])
print(json.dumps(made))
"""
    out = compose("exec", "-T", "web", "python", "manage.py", "shell", "--no-imports", "-c", script)
    made = json.loads(out.stdout.strip().splitlines()[-1])
    return [Visitor(key, pk, secrets.token_hex(16)) for key, pk in made]


class Load:
    """`connections` threads, each with its own keep-alive connection to nginx, sending one
    visitor's requests back to back until stopped; every outcome is kept."""

    def __init__(self, crowd: list[Visitor], *, connections: int, writes: bool = True):
        self.crowd, self.connections, self.writes = crowd, connections, writes
        self.outcomes: list[Outcome] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.visit, args=(i,), daemon=True) for i in range(connections)
        ]

    def visit(self, index: int) -> None:
        visitor = self.crowd[index % len(self.crowd)]
        session = requests.Session()
        session.headers.update({"X-Forwarded-Proto": "https", "Cookie": visitor.cookie})
        n = index
        while not self.stopping.is_set():
            method, path, data, expected = visitor.step(n, writes=self.writes)
            n += 1
            headers = {"Origin": ORIGIN} if method == "POST" else {}
            start = time.monotonic()
            try:
                response = session.request(
                    method,
                    f"{NGINX}{path}",
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=CLIENT_TIMEOUT,
                )
                status, detail = response.status_code, response.text[:300]
            except requests.RequestException as error:
                status, detail = None, repr(error)[:300]
            ok = status in expected
            self.outcomes.append(
                Outcome(
                    start, time.monotonic(), f"{method} {path}", status, ok, "" if ok else detail
                )
            )

    def __enter__(self) -> "Load":
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.stopped = time.monotonic()

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def summary(self) -> str:
        statuses = Counter(o.status for o in self.outcomes)
        seconds = self.stopped - self.started
        return (
            f"{len(self.outcomes)} requests in {seconds:.1f}s "
            f"({len(self.outcomes) / seconds:.0f}/s, {self.connections} connections), "
            f"{len(self.failures())} failed; statuses {dict(sorted(statuses.items(), key=str))}"
        )


def anonymous_visitor() -> Visitor:
    """A browser with a session cookie the app does not know: every page reads the session
    table, so it needs the database (and its migrations)."""
    return Visitor(secrets.token_hex(16), 0, secrets.token_hex(16), signed_in=False)


def get(path: str, **headers: str) -> requests.Response:
    return requests.get(
        f"{NGINX}{path}",
        headers={"X-Forwarded-Proto": "https", **headers},
        allow_redirects=False,
        timeout=CLIENT_TIMEOUT,
    )


def post(visitor: Visitor, path: str, data: dict) -> requests.Response:
    return requests.post(
        f"{NGINX}{path}",
        data={**data, "csrfmiddlewaretoken": visitor.csrf},
        headers={"X-Forwarded-Proto": "https", "Cookie": visitor.cookie, "Origin": ORIGIN},
        allow_redirects=False,
        timeout=CLIENT_TIMEOUT,
    )


# --- Before and during migrations --------------------------------------------------------


def test_web_started_before_any_migration_answers_503_and_does_not_restart(report):
    """Before any migration, pages that need tables answer 503; nothing restarts."""
    session_page = get("/", Cookie=f"sessionid={secrets.token_hex(16)}")
    assert session_page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert session_page.headers["Retry-After"] == "30"
    assert "The database has not been set up yet (its migrations have not run)." in (
        session_page.text
    )
    # Pages that need no table still work.
    assert get("/accounts/login/").status_code == HTTPStatus.OK
    health = get("/health/")
    assert health.status_code == HTTPStatus.OK
    assert health.json()["database"] == "ok"

    time.sleep(10)  # five healthcheck intervals: long enough for a crash loop to show
    counts = restart_counts()
    report(f"before migrations: GET / -> 503, health 200, restart counts {counts}")
    assert counts == {"db": 0, "web": 0, "nginx": 0}
    assert healthy("web")
    logs = compose("logs", "--no-color", "web").stdout
    assert "Service Unavailable: /: The database has not been set up yet" in logs
    assert "Traceback" not in logs


def test_the_first_migration_under_load_turns_503_into_pages_without_a_500(report):
    """During the first migrate job: 503s, then pages; never a 500 or a dropped connection."""
    with Load([anonymous_visitor()], connections=4, writes=False) as load:
        time.sleep(1)
        migrate()
        done = time.monotonic()
        time.sleep(3)
    report(f"first migration under load: {load.summary()}")
    for outcome in load.outcomes:
        if outcome.start > done:
            assert outcome.ok, outcome
        else:
            assert outcome.ok or outcome.status == HTTPStatus.SERVICE_UNAVAILABLE, outcome
    assert any(o.ok for o in load.outcomes if o.start > done)


def test_a_migrate_job_while_web_serves_fails_no_request(report):
    """A redeploy's migrate job (migrate and collectstatic) fails no request under load."""
    crowd = visitors(8)
    with Load(crowd, connections=LOAD_CONNECTIONS) as load:
        time.sleep(2)
        started = time.monotonic()
        migrate()
        job = time.monotonic() - started
        time.sleep(2)
    report(f"migrate job ({job:.1f}s) under load: {load.summary()}")
    assert load.failures() == []
    assert len(load.outcomes) > 0


# --- The database fails ----------------------------------------------------------------------


def test_a_committed_write_survives_a_power_cut_of_the_database(report):
    """A write committed through the app survives kill -9 of the db container."""
    assert run_sql("SHOW fsync; SHOW synchronous_commit;").split() == ["on", "on"]
    visitor = visitors(1)[0]
    name = f"power-cut-{secrets.token_hex(4)}"
    assert post(visitor, "/", {"name": name}).status_code == HTTPStatus.FOUND
    assert run_sql(f"SELECT count(*) FROM todo_todolist WHERE name = '{name}';") == "1"

    docker("kill", "--signal", "KILL", container("db"))
    killed = time.monotonic()
    compose("up", "--detach", "--wait", "--wait-timeout", "120", "db", timeout=180)
    back = time.monotonic() - killed
    assert run_sql(f"SELECT count(*) FROM todo_todolist WHERE name = '{name}';") == "1"
    logs = compose("logs", "--no-color", "db").stdout
    assert "database system was interrupted" in logs or "not properly shut down" in logs
    wait_until(
        lambda: name in get("/", Cookie=visitor.cookie).text,
        timeout=30,
        message="the app did not show the write after the database came back",
    )
    report(f"power cut: db back and healthy {back:.1f}s after kill -9; the write is there")


def test_a_database_restart_under_load_fails_requests_only_during_the_outage(report):
    """A db restart under load: 503s during the outage only, then recovery by itself."""
    crowd = visitors(8)
    with Load(crowd, connections=LOAD_CONNECTIONS) as load:
        time.sleep(3)
        outage_start = time.monotonic()
        compose("restart", "db", timeout=120)
        wait_until(lambda: healthy("db"), timeout=60, message="db did not come back healthy")
        outage_end = time.monotonic()
        time.sleep(8)
    recovered = outage_end + RECOVERY_GRACE
    failures = load.failures()
    after = [o for o in load.outcomes if o.start > recovered]
    first = min((f.start - outage_start for f in failures), default=0)
    last = max((f.end - outage_start for f in failures), default=0)
    report(
        f"db restart under load: {load.summary()}; outage {outage_end - outage_start:.1f}s, "
        f"failed requests between +{first:.1f}s and +{last:.1f}s; "
        f"{len(after)} requests after recovery"
    )
    assert [f for f in failures if f.end < outage_start or f.start > recovered] == []
    # During the outage: a clear 503 from the app, never a 500 or a dropped connection.
    assert {f.status for f in failures} <= {HTTPStatus.SERVICE_UNAVAILABLE}
    assert after
    assert all(o.ok for o in after)
    assert restart_counts()["web"] == 0


# --- The web app fails -----------------------------------------------------------------------


def test_a_gunicorn_worker_killed_under_load_is_replaced_and_only_its_requests_fail(report):
    """A worker killed under load is replaced; only requests in flight at the kill may fail."""
    crowd = visitors(8)
    before = gunicorn()
    victim = min(before.workers)
    with Load(crowd, connections=LOAD_CONNECTIONS) as load:
        time.sleep(3)
        kill_start = time.monotonic()
        compose("exec", "-T", "web", "sh", "-c", f"kill -9 {victim}")
        kill_end = time.monotonic()
        replaced = wait_until(
            lambda: (
                (now := gunicorn())
                and victim not in now.workers
                and len(now.workers) == len(before.workers)
                and now
            ),
            timeout=30,
            message="the killed worker was not replaced",
        )
        respawned = time.monotonic() - kill_start
        time.sleep(3)
    failures = load.failures()
    in_flight = [o for o in load.outcomes if o.start <= kill_end and o.end >= kill_start]
    report(
        f"worker {victim} killed under load: {load.summary()}; "
        f"{len(in_flight)} requests in flight at the kill; new workers "
        f"{sorted(set(replaced.workers) - set(before.workers))} after {respawned:.1f}s"
    )
    assert victim not in replaced.workers
    assert all(f.start <= kill_end and f.end >= kill_start for f in failures), failures
    assert len(failures) <= len(in_flight)
    assert all(o.ok for o in load.outcomes if o.start > kill_start + respawned)
    assert restart_counts()["web"] == 0


def test_with_web_stopped_nginx_answers_a_clear_503_at_once_and_recovers(report):
    """With web stopped, nginx's 503 page comes within 2 s every time; pages return with web."""
    compose("stop", "web", timeout=60)
    stopped = time.monotonic()
    timings = []
    try:
        while time.monotonic() - stopped < 8:  # well past nginx's re-resolution of `web`
            started = time.monotonic()
            response = get("/")
            timings.append(time.monotonic() - started)
            assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
            assert response.headers["Retry-After"] == "5"
            assert "The application is starting or restarting." in response.text
    finally:
        compose("start", "web", timeout=60)
    started = time.monotonic()
    wait_until(
        lambda: get("/accounts/login/").status_code == HTTPStatus.OK,
        timeout=60,
        message="nginx did not reach web again after it started",
    )
    report(
        f"web stopped: {len(timings)} requests in 8s, each a 503 with Retry-After, the slowest "
        f"in {max(timings) * 1000:.0f} ms; pages again {time.monotonic() - started:.1f}s "
        "after `start web`"
    )
    assert max(timings) < 2, timings


# --- Load held -----------------------------------------------------------------------------


def test_a_soak_of_signed_in_users_has_no_error_and_flat_memory(report):
    """64 signed-in connections for the soak: not one failed request, gunicorn's RSS flat."""
    crowd = visitors(16)
    with Load(crowd, connections=SOAK_CONNECTIONS) as warm_up:
        time.sleep(10)
    start_rss, start_memory = gunicorn(), container_memory()
    with Load(crowd, connections=SOAK_CONNECTIONS) as soak:
        time.sleep(SOAK_SECONDS)
    end_rss, end_memory = gunicorn(), container_memory()
    latencies = sorted(o.end - o.start for o in soak.outcomes)
    report(f"soak warm-up: {warm_up.summary()}")
    report(f"soak: {soak.summary()}")
    report(
        f"soak latency: median {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms"
    )
    report(
        f"gunicorn RSS (master + {len(end_rss.workers)} workers): "
        f"{start_rss.rss / 1024:.1f} MiB at start, {end_rss.rss / 1024:.1f} MiB at the end; "
        f"container (docker stats): {start_memory} -> {end_memory}"
    )
    assert warm_up.failures() == []
    assert soak.failures() == []
    assert end_rss.rss <= start_rss.rss * 1.5 + RSS_SLACK_KIB


# --- Backups ---------------------------------------------------------------------------------


def make(*args: str) -> subprocess.CompletedProcess:
    """The project's make targets, for this test's stack (compose reads the project's name and
    the port from the environment)."""
    result = subprocess.run(
        ["make", *args, "ENV=prod"],
        cwd=ROOT,
        env=compose_environ(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"make {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def test_backup_then_restore_into_a_new_volume_brings_the_data_back(report, tmp_path, dotenv):
    """make backup, down -v, up, make restore: the data and the sessions are back."""
    visitor = visitors(1)[0]
    name = f"backed-up-{secrets.token_hex(4)}"
    assert post(visitor, "/", {"name": name}).status_code == HTTPStatus.FOUND

    backup = make("backup", f"BACKUP_DIR={tmp_path}")
    written = re.search(r"Backup written: (\S+)", backup.stdout)
    assert written, backup.stdout
    dump = Path(written[1])
    assert re.fullmatch(r"db-\d{8}T\d{6}Z\.dump", dump.name)
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert dotenv["POSTGRES_PASSWORD"] not in backup.stdout + backup.stderr
    assert not list(tmp_path.glob("*.partial"))

    compose("down", "--volumes")
    compose("up", "--detach", "--wait", "--wait-timeout", "180", timeout=240)
    assert run_sql("SELECT to_regclass('todo_todolist') IS NULL;") == "t"

    started = time.monotonic()
    make("restore", f"FILE={dump}")
    restored = time.monotonic() - started
    assert run_sql(f"SELECT count(*) FROM todo_todolist WHERE name = '{name}';") == "1"
    page = get("/", Cookie=visitor.cookie)
    assert page.status_code == HTTPStatus.OK
    assert name in page.text
    report(
        f"backup {dump.stat().st_size / 1024:.0f} KiB; restored into a new volume in "
        f"{restored:.1f}s; the list and the session are back"
    )
