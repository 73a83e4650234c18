"""Faults survived and load held: the production stack (compose.yaml alone) on a real engine,
under load through nginx while its parts fail: the web app before its migrations, a migrate
job, a database restart and a power cut, a gunicorn worker killed, `web` stopped, the task
worker stopped and killed mid-task and its database restarted under a stream of tasks, a
soak, a backup and a restore.

The stack is a compose project of its own (<project>-faults, on free ports), removed before
and after, even when a step fails. The tests run in file order on one stack. The load is the
project's own pages, signed in as staff: the home page, the admin's pages and now and then a
new group through the admin's form. Nothing terminates TLS in front of nginx here, so the
stack's redirect to https is turned off (DJANGO_SECURE_SSL_REDIRECT=False, as in the stack
without Docker), and requests carry their cookies themselves (production cookies are
Secure-only). Every figure is printed.

FAULTS_SOAK_SECONDS sets the soak's length (default 60; 120 for the full two minutes).
"""

import json
import os
import re
import secrets
import signal
import stat
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

from harness.compose import PROD, Compose, docker
from harness.load import Load, Request
from harness.project import django_script
from harness.waiting import wait_until

pytestmark = pytest.mark.docker

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


@pytest.fixture(scope="module")
def stack(compose_env_file):
    """The production stack, fresh volumes, no migration yet; removed afterwards."""
    compose = Compose(
        "faults", compose_env_file, files=PROD, settings={"DJANGO_SECURE_SSL_REDIRECT": "False"}
    )
    compose.run("build", timeout=900)
    compose.run("down", "--volumes", "--remove-orphans", check=False)
    try:
        compose.up()
        yield compose
    finally:
        compose.run("down", "--volumes", "--remove-orphans", check=False)


@pytest.fixture
def report(capsys) -> Callable[[str], None]:
    """Prints a figure past pytest's capture, so that it reaches the CI log."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n  [faults] {line}", end="")

    return say


def healthy(stack: Compose, service: str) -> bool:
    status = stack.inspect(service, "{{if .State.Health}}{{.State.Health.Status}}{{end}}")
    return status == "healthy"


def restart_counts(stack: Compose) -> dict[str, int]:
    return {s: int(stack.inspect(s, "{{.RestartCount}}")) for s in ("db", "web", "nginx")}


@dataclass(frozen=True)
class Gunicorn:
    master_rss: int  # KiB
    workers: dict[int, int]  # pid: RSS in KiB

    @property
    def rss(self) -> int:
        return self.master_rss + sum(self.workers.values())


def gunicorn(stack: Compose) -> Gunicorn:
    script = django_script("gunicorn_processes")
    listed = stack.run("exec", "-T", "web", "python", "-", input=script).stdout
    rows = json.loads(listed.strip().splitlines()[-1])
    master = [rss for pid, _, rss in rows if pid == 1]
    assert master, f"no gunicorn master as PID 1: {rows}"
    return Gunicorn(master[0], {pid: rss for pid, ppid, rss in rows if ppid == 1})


def container_memory(stack: Compose) -> str:
    """What `docker stats` says the web container uses (cgroup memory, page cache included)."""
    memory = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", stack.container("web"))
    return memory.stdout.strip()


# --- Visitors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    """A browser signed in as a staff user: its session cookie and CSRF secret (Django accepts
    any well-formed secret in the cookie when the form repeats it), and the site's origin."""

    session: str
    csrf: str
    origin: str
    signed_in: bool = True

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.session}; csrftoken={self.csrf}"}

    def step(self, n: int, *, writes: bool) -> Request:
        """The n-th request of a visit: the project's pages, and now and then a new group."""
        if writes and n % 10 == 9:
            return Request(
                "POST",
                "/admin/auth/group/add/",
                {"name": f"group-{secrets.token_hex(6)}", "csrfmiddlewaretoken": self.csrf},
                {**self.headers, "Origin": self.origin},
                frozenset({302}),
            )
        path = ["/", "/admin/", "/admin/accounts/user/", "/accounts/login/", "/admin/auth/group/"]
        # Signed out, the admin's pages send the visitor to the sign-in page.
        expected = {200} if self.signed_in else {200, 302}
        return Request("GET", path[n % 5], headers=self.headers, expected=frozenset(expected))


def visitors(stack: Compose, count: int) -> list[Visitor]:
    """`count` staff users, each signed in, made by the app's own code in the web container
    (no password, no sign-in form: nginx limits sign-in POSTs per client)."""
    made = stack.django("signed_in_sessions", HARNESS_COUNT=str(count))
    return [Visitor(session, secrets.token_hex(16), origin(stack)) for session, _ in made]


def anonymous_visitor(stack: Compose) -> Visitor:
    """A browser with a session cookie the app does not know: every page reads the session
    table, so it needs the database (and its migrations)."""
    return Visitor(secrets.token_hex(16), secrets.token_hex(16), origin(stack), signed_in=False)


def origin(stack: Compose) -> str:
    return stack.url()


def load(stack: Compose, crowd: list[Visitor], *, connections: int, writes: bool = True) -> Load:
    return Load(
        stack.url(),
        lambda index, n: crowd[index % len(crowd)].step(n, writes=writes),
        connections=connections,
        timeout=CLIENT_TIMEOUT,
    )


def get(stack: Compose, path: str, **headers: str) -> requests.Response:
    return requests.get(
        f"{stack.url()}{path}",
        headers=headers,
        allow_redirects=False,
        timeout=CLIENT_TIMEOUT,
    )


def add_group(stack: Compose, visitor: Visitor, name: str) -> requests.Response:
    """A write through the app: a new group, by the admin's own form."""
    return requests.post(
        f"{stack.url()}/admin/auth/group/add/",
        data={"name": name, "csrfmiddlewaretoken": visitor.csrf},
        headers={**visitor.headers, "Origin": visitor.origin},
        allow_redirects=False,
        timeout=CLIENT_TIMEOUT,
    )


# --- Before and during migrations --------------------------------------------------------


def test_web_started_before_any_migration_answers_503_and_does_not_restart(stack, report):
    """Before any migration, pages that need tables answer 503; nothing restarts."""
    session_page = get(stack, "/", Cookie=f"sessionid={secrets.token_hex(16)}")
    assert session_page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert session_page.headers["Retry-After"] == "30"
    assert "The database has not been set up yet (its migrations have not run)." in (
        session_page.text
    )
    # Pages that need no table still work.
    assert get(stack, "/accounts/login/").status_code == HTTPStatus.OK
    health = get(stack, "/health/")
    assert health.status_code == HTTPStatus.OK
    assert health.json()["database"] == "ok"

    time.sleep(10)  # five healthcheck intervals: long enough for a crash loop to show
    counts = restart_counts(stack)
    report(f"before migrations: GET / -> 503, health 200, restart counts {counts}")
    assert counts == {"db": 0, "web": 0, "nginx": 0}
    assert healthy(stack, "web")
    logs = stack.run("logs", "--no-color", "web").stdout
    assert "Service Unavailable: /: The database has not been set up yet" in logs
    assert "Traceback" not in logs


def test_the_first_migration_under_load_turns_503_into_pages_without_a_500(stack, report):
    """During the first migrate job: 503s, then pages; never a 500 or a dropped connection."""
    with load(stack, [anonymous_visitor(stack)], connections=4, writes=False) as running:
        time.sleep(1)
        stack.migrate()
        done = time.monotonic()
        time.sleep(3)
    report(f"first migration under load: {running.summary()}")
    unexpected = [
        outcome
        for outcome in running.outcomes
        if not outcome.ok
        and (outcome.start > done or outcome.status != HTTPStatus.SERVICE_UNAVAILABLE)
    ]
    # web's log says why, if a request got anything but a page or a 503.
    assert unexpected == [], stack.run("logs", "--no-color", "--tail", "60", "web").stdout
    assert any(o.ok for o in running.outcomes if o.start > done)


def test_a_migrate_job_while_web_serves_fails_no_request(stack, report):
    """A redeploy's migrate job (migrate and collectstatic) fails no request under load."""
    crowd = visitors(stack, 8)
    with load(stack, crowd, connections=LOAD_CONNECTIONS) as running:
        time.sleep(2)
        started = time.monotonic()
        stack.migrate()
        job = time.monotonic() - started
        time.sleep(2)
    report(f"migrate job ({job:.1f}s) under load: {running.summary()}")
    assert running.failures() == []
    assert len(running.outcomes) > 0


# --- The database fails ----------------------------------------------------------------------


def test_a_committed_write_survives_a_power_cut_of_the_database(stack, report):
    """A write committed through the app survives kill -9 of the db container."""
    assert stack.sql("SHOW fsync; SHOW synchronous_commit;").split() == ["on", "on"]
    visitor = visitors(stack, 1)[0]
    name = f"power-cut-{secrets.token_hex(4)}"
    assert add_group(stack, visitor, name).status_code == HTTPStatus.FOUND
    assert stack.sql(f"SELECT count(*) FROM auth_group WHERE name = '{name}';") == "1"

    docker("kill", "--signal", "KILL", stack.container("db"))
    killed = time.monotonic()
    stack.up("db")
    back = time.monotonic() - killed
    assert stack.sql(f"SELECT count(*) FROM auth_group WHERE name = '{name}';") == "1"
    logs = stack.run("logs", "--no-color", "db").stdout
    assert "database system was interrupted" in logs or "not properly shut down" in logs
    wait_until(
        lambda: name in get(stack, "/admin/auth/group/", **visitor.headers).text,
        timeout=30,
        message="the app did not show the write after the database came back",
    )
    report(f"power cut: db back and healthy {back:.1f}s after kill -9; the write is there")


def test_a_database_restart_under_load_fails_requests_only_during_the_outage(stack, report):
    """A db restart under load: 503s during the outage only, then recovery by itself."""
    crowd = visitors(stack, 8)
    with load(stack, crowd, connections=LOAD_CONNECTIONS) as running:
        time.sleep(3)
        outage_start = time.monotonic()
        stack.run("restart", "db", timeout=120)
        wait_until(lambda: healthy(stack, "db"), timeout=60, message="db did not come back healthy")
        outage_end = time.monotonic()
        time.sleep(8)
    recovered = outage_end + RECOVERY_GRACE
    failures = running.failures()
    after = [o for o in running.outcomes if o.start > recovered]
    first = min((f.start - outage_start for f in failures), default=0)
    last = max((f.end - outage_start for f in failures), default=0)
    report(
        f"db restart under load: {running.summary()}; outage {outage_end - outage_start:.1f}s, "
        f"failed requests between +{first:.1f}s and +{last:.1f}s; "
        f"{len(after)} requests after recovery"
    )
    assert [f for f in failures if f.end < outage_start or f.start > recovered] == []
    # During the outage: a clear 503 from the app, never a 500 or a dropped connection.
    assert {f.status for f in failures} <= {HTTPStatus.SERVICE_UNAVAILABLE}
    assert after
    assert all(o.ok for o in after)
    assert restart_counts(stack)["web"] == 0


# --- The web app fails -----------------------------------------------------------------------


def test_a_gunicorn_worker_killed_under_load_is_replaced_and_only_its_requests_fail(stack, report):
    """A worker killed under load is replaced; only requests in flight at the kill may fail."""
    crowd = visitors(stack, 8)
    before = gunicorn(stack)
    victim = min(before.workers)
    with load(stack, crowd, connections=LOAD_CONNECTIONS) as running:
        time.sleep(3)
        kill_start = time.monotonic()
        stack.run("exec", "-T", "web", "sh", "-c", f"kill -9 {victim}")
        kill_end = time.monotonic()
        replaced = wait_until(
            lambda: (
                (now := gunicorn(stack))
                and victim not in now.workers
                and len(now.workers) == len(before.workers)
                and now
            ),
            timeout=30,
            message="the killed worker was not replaced",
        )
        respawned = time.monotonic() - kill_start
        time.sleep(3)
    failures = running.failures()
    in_flight = [o for o in running.outcomes if o.start <= kill_end and o.end >= kill_start]
    report(
        f"worker {victim} killed under load: {running.summary()}; "
        f"{len(in_flight)} requests in flight at the kill; new workers "
        f"{sorted(set(replaced.workers) - set(before.workers))} after {respawned:.1f}s"
    )
    assert victim not in replaced.workers
    assert all(f.start <= kill_end and f.end >= kill_start for f in failures), failures
    assert len(failures) <= len(in_flight)
    assert all(o.ok for o in running.outcomes if o.start > kill_start + respawned)
    assert restart_counts(stack)["web"] == 0


def test_with_web_stopped_nginx_answers_a_clear_503_at_once_and_recovers(stack, report):
    """With web stopped, nginx's 503 page comes within 2 s every time; pages return with web."""
    stack.run("stop", "web", timeout=60)
    stopped = time.monotonic()
    timings = []
    try:
        while time.monotonic() - stopped < 8:  # well past nginx's re-resolution of `web`
            started = time.monotonic()
            response = get(stack, "/")
            timings.append(time.monotonic() - started)
            assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
            assert response.headers["Retry-After"] == "5"
            assert "The application is starting or restarting." in response.text
    finally:
        stack.run("start", "web", timeout=60)
    started = time.monotonic()
    wait_until(
        lambda: get(stack, "/accounts/login/").status_code == HTTPStatus.OK,
        timeout=60,
        message="nginx did not reach web again after it started",
    )
    report(
        f"web stopped: {len(timings)} requests in 8s, each a 503 with Retry-After, the slowest "
        f"in {max(timings) * 1000:.0f} ms; pages again {time.monotonic() - started:.1f}s "
        "after `start web`"
    )
    assert max(timings) < 2, timings


# --- The task worker -------------------------------------------------------------------------


def enqueue_probes(stack: Compose, count: int, seconds: float) -> list[str]:
    """`count` probe tasks (ops.tasks.probe), enqueued by the app in the web container."""
    return stack.django("enqueue_probes", HARNESS_COUNT=str(count), HARNESS_SECONDS=str(seconds))


# django-tasks-db's table (its app label is django_tasks_database).
TASKS_TABLE = "django_tasks_database_dbtaskresult"


def task_status(stack: Compose, task_id: str) -> str:
    return stack.sql(f"SELECT status FROM {TASKS_TABLE} WHERE id = '{task_id}';")


def test_sigterm_lets_the_running_task_finish_before_the_worker_stops(stack, report):
    """`docker compose stop worker` mid-task: the task finishes, the worker exits 0."""
    [task] = enqueue_probes(stack, 1, seconds=5)
    wait_until(
        lambda: task_status(stack, task) == "RUNNING", timeout=30, message="no worker took it"
    )
    started = time.monotonic()
    stack.run("stop", "worker", timeout=90)
    stopped = time.monotonic() - started
    exit_code = stack.inspect("worker", "{{.State.ExitCode}}")
    status = task_status(stack, task)
    stack.up("worker")
    report(
        f"worker stopped (SIGTERM) during a 5 s task: exit {exit_code} after {stopped:.1f}s, "
        f"the task {status}"
    )
    assert (exit_code, status) == ("0", "SUCCESSFUL")


def test_a_worker_killed_mid_task_comes_back_and_marks_the_task_failed(stack, report):
    """SIGKILL (as the OOM killer sends it) mid-task: Docker restarts the worker, and the task
    is marked FAILED (WorkerLost), not left RUNNING: the backend runs a task at most once."""
    [task] = enqueue_probes(stack, 1, seconds=120)
    wait_until(
        lambda: task_status(stack, task) == "RUNNING", timeout=30, message="no worker took it"
    )
    restarts = int(stack.inspect("worker", "{{.RestartCount}}"))
    # The process itself, from outside the container: a crash, which the restart policy
    # answers (a `docker kill` would count as stopping it on purpose).
    os.kill(int(stack.inspect("worker", "{{.State.Pid}}")), signal.SIGKILL)
    killed = time.monotonic()
    wait_until(
        lambda: task_status(stack, task) == "FAILED",
        timeout=60,
        message="the killed worker's task stayed RUNNING",
    )
    noticed = time.monotonic() - killed
    exception = stack.sql(f"SELECT exception_class_path FROM {TASKS_TABLE} WHERE id = '{task}';")
    wait_until(lambda: healthy(stack, "worker"), timeout=60, message="worker not healthy again")
    report(
        f"worker killed (SIGKILL) mid-task: restarted by Docker, the task marked FAILED "
        f"({exception}) {noticed:.1f}s after the kill"
    )
    assert exception == "ops.worker.WorkerLost"
    assert int(stack.inspect("worker", "{{.RestartCount}}")) == restarts + 1


def test_a_database_restart_under_a_stream_of_tasks_loses_none(stack, report):
    """200 short tasks queued, the database restarted while the worker works through them:
    every one ends SUCCESSFUL, none is lost or run twice."""
    tasks = enqueue_probes(stack, 200, seconds=0.05)
    time.sleep(2)
    started = time.monotonic()
    stack.run("restart", "db", timeout=120)
    wait_until(lambda: healthy(stack, "db"), timeout=60, message="db did not come back healthy")
    outage = time.monotonic() - started

    def outcome():
        found = stack.django("task_outcomes", HARNESS_IDS=",".join(tasks))
        return (
            found
            if sum(found["statuses"].values())
            == found["statuses"].get("SUCCESSFUL", 0) + found["statuses"].get("FAILED", 0)
            == len(tasks)
            else None
        )

    found = wait_until(outcome, timeout=120, interval=2, message="the tasks did not all finish")
    runs = stack.sql(
        f"SELECT max(jsonb_array_length(worker_ids)) FROM {TASKS_TABLE} "
        f"WHERE id IN ({', '.join(repr(task) for task in tasks)});"
    )
    report(
        f"db restart ({outage:.1f}s) under 200 queued tasks: {found['statuses']}, "
        f"at most {runs} run(s) each; worker restarts "
        f"{stack.inspect('worker', '{{.RestartCount}}')}"
    )
    assert found["statuses"] == {"SUCCESSFUL": 200}
    assert found["missing"] == 0
    assert runs == "1"


# --- Load held -----------------------------------------------------------------------------


def test_a_soak_of_signed_in_users_has_no_error_and_flat_memory(stack, report):
    """64 signed-in connections for the soak: not one failed request, gunicorn's RSS flat."""
    crowd = visitors(stack, 16)
    with load(stack, crowd, connections=SOAK_CONNECTIONS) as warm_up:
        time.sleep(10)
    start_rss, start_memory = gunicorn(stack), container_memory(stack)
    with load(stack, crowd, connections=SOAK_CONNECTIONS) as soak:
        time.sleep(SOAK_SECONDS)
    end_rss, end_memory = gunicorn(stack), container_memory(stack)
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


# % if with_example_app
# --- Uploaded files ----------------------------------------------------------------------------
LARGE_MIB = 200
# What sending a 200 MiB file may add to gunicorn (master and workers): none of it is read there.
LARGE_DOWNLOAD_SLACK_KIB = 5 * 1024


def browser_of(visitor: Visitor) -> requests.Session:
    """A requests session with the visitor's cookies, sent over plain http (they are
    Secure-only in production, and nothing terminates TLS here)."""
    session = requests.Session()
    session.cookies.set("sessionid", visitor.session)
    session.cookies.set("csrftoken", visitor.csrf)
    return session


def test_a_large_download_is_sent_by_nginx_while_gunicorn_stays_flat(stack, report):
    """200 MiB attached (written into the media volume by the app's code in web), downloaded
    through nginx: nginx streams it (X-Accel-Redirect), gunicorn's workers do not grow."""
    import hashlib

    from todo.tests.site import new_item

    visitor = visitors(stack, 1)[0]
    session = browser_of(visitor)
    item = new_item(session, stack.url())
    script = Path(__file__).resolve().parents[2] / "todo/tests/scripts/attach_file.py"
    made = stack.django(script, HARNESS_ITEM=str(item), HARNESS_MEGABYTES=str(LARGE_MIB))
    session.get(f"{stack.url()}/todo/", timeout=10)
    before, memory_before = gunicorn(stack), container_memory(stack)
    started = time.monotonic()
    digest, received = hashlib.sha256(), 0
    with session.get(f"{stack.url()}{made['path']}", stream=True, timeout=120) as response:
        assert response.status_code == HTTPStatus.OK
        for chunk in response.iter_content(1024 * 1024):
            digest.update(chunk)
            received += len(chunk)
    seconds = time.monotonic() - started
    after, memory_after = gunicorn(stack), container_memory(stack)
    report(
        f"{received / 2**20:.0f} MiB downloaded through nginx in {seconds:.1f}s; gunicorn RSS "
        f"(master + {len(after.workers)} workers) {before.rss / 1024:.1f} MiB before, "
        f"{after.rss / 1024:.1f} MiB after (workers {before.workers} -> {after.workers} KiB); "
        f"web container (docker stats) {memory_before} -> {memory_after}"
    )
    assert received == LARGE_MIB * 2**20
    assert digest.hexdigest() == made["sha256"]
    assert set(after.workers) == set(before.workers)
    assert after.rss - before.rss < LARGE_DOWNLOAD_SLACK_KIB


# % endif
# --- Backups ---------------------------------------------------------------------------------


def test_backup_then_restore_into_a_new_volume_brings_the_data_back(stack, report, tmp_path):
    """make backup, down -v, up, make restore: the data, the sessions and the uploaded files
    are back."""
    visitor = visitors(stack, 1)[0]
    name = f"backed-up-{secrets.token_hex(4)}"
    assert add_group(stack, visitor, name).status_code == HTTPStatus.FOUND
    # A file in the media volume, written by the app's user as an upload would be.
    kept = f"media/{secrets.token_hex(8)}"
    stack.run(
        "exec",
        "-T",
        "web",
        "sh",
        "-c",
        f"mkdir -p /srv/media/media && echo {kept} >/srv/media/{kept}",
    )
    # % if with_example_app
    from todo.tests.site import attachments, new_item, upload

    session = browser_of(visitor)
    item = new_item(session, stack.url())
    uploaded = f"uploaded {secrets.token_hex(8)}".encode()
    assert upload(session, stack.url(), item, "kept.txt", uploaded).status_code == HTTPStatus.FOUND
    attachment = attachments(session, stack.url(), item)["kept.txt"]
    # % endif
    backup = stack.make("backup", "ENV=prod", f"BACKUP_DIR={tmp_path}")
    written = re.search(r"Backup written: (\S+)", backup.stdout)
    assert written, backup.stdout
    dump = Path(written[1])
    assert re.fullmatch(r"db-\d{8}T\d{6}Z\.dump", dump.name)
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    # Password hashes and session keys: for the owner's eyes only, like .env.
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert stack.values["POSTGRES_PASSWORD"] not in backup.stdout + backup.stderr
    assert not list(tmp_path.glob("*.partial"))
    archived = re.search(r"Media archive written: (\S+)", backup.stdout)
    assert archived, backup.stdout
    archive = Path(archived[1])
    assert archive.name == dump.name.replace("db-", "media-").replace(".dump", ".tar")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        assert f"./{kept}" in tar.getnames()

    stack.down(volumes=True)
    stack.up()
    assert stack.sql("SELECT to_regclass('auth_group') IS NULL;") == "t"
    assert stack.run("exec", "-T", "web", "ls", "-A", "/srv/media").stdout.strip() == ""

    started = time.monotonic()
    stack.make("restore", "ENV=prod", f"FILE={dump}")
    restored = time.monotonic() - started
    assert stack.sql(f"SELECT count(*) FROM auth_group WHERE name = '{name}';") == "1"
    page = get(stack, "/admin/auth/group/", **visitor.headers)
    assert page.status_code == HTTPStatus.OK
    assert name in page.text
    back = stack.run("exec", "-T", "web", "cat", f"/srv/media/{kept}").stdout.strip()
    assert back == kept
    # % if with_example_app
    download = session.get(f"{stack.url()}{attachment}", timeout=10)
    assert download.status_code == HTTPStatus.OK
    assert download.content == uploaded
    # % endif
    report(
        f"backup {dump.stat().st_size / 1024:.0f} KiB, media archive "
        f"{archive.stat().st_size / 2**20:.1f} MiB; restored into new volumes in "
        f"{restored:.1f}s; the group, the session and the uploaded files are back"
    )
