"""A load generator for the tests that break the stack under load: a few threads, each with
its own keep-alive connection, sending requests back to back until stopped; every outcome is
kept, so a test can say which requests failed and when."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    data: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expected: frozenset[int] = frozenset({200})


@dataclass(frozen=True)
class Outcome:
    start: float
    end: float
    what: str
    status: int | None  # None: no answer at all (connection error, timeout)
    ok: bool
    detail: str = ""  # for a failure: the start of the page, or the client's error
    note: str | None = None  # what `observe` made of the answer


class Load:
    """`plan(connection, n)` says what the n-th request of a connection is; `observe`, if
    given, notes something of each answer (which container sent it, say).

    `retry_on_closed_keepalive`: a GET sent on a kept-alive connection that the server closed
    while it was idle (the request never reached it: nothing came back) is sent once more on
    a new connection, as browsers do (RFC 9112, 9.3.1); an nginx reload closes its old
    workers' idle connections. Such retries are counted (`retried`), not hidden."""

    def __init__(
        self,
        url: str,
        plan: Callable[[int, int], Request],
        *,
        connections: int,
        pause: float = 0.0,
        timeout: float = 60,
        observe: Callable[[requests.Response], str | None] | None = None,
        verify: bool | str = True,
        retry_on_closed_keepalive: bool = False,
    ):
        self.url, self.plan, self.pause, self.timeout = url, plan, pause, timeout
        self.observe = observe
        self.verify = verify  # over https: True, or the CA file that signed the server's
        self.connections = connections
        self.retry_on_closed_keepalive = retry_on_closed_keepalive
        self.retried = 0
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._send, args=(index,), daemon=True)
            for index in range(connections)
        ]

    def _send(self, index: int) -> None:
        session = requests.Session()
        n = index
        kept_alive = False  # whether the next request goes on a connection used before
        while not self._stopping.is_set():
            request = self.plan(index, n)
            n += 1
            start = time.monotonic()
            note = None

            def send(request=request):
                return session.request(
                    request.method,
                    f"{self.url}{request.path}",
                    data=request.data,
                    headers=request.headers,
                    allow_redirects=False,
                    timeout=self.timeout,
                    # Per request: requests lets REQUESTS_CA_BUNDLE override a session's own.
                    verify=self.verify,
                )

            try:
                try:
                    response = send()
                except requests.ConnectionError as error:
                    closed_idle = "RemoteDisconnected" in repr(error) and kept_alive
                    if not (self.retry_on_closed_keepalive and closed_idle):
                        raise
                    if request.method != "GET":
                        raise
                    with self._lock:
                        self.retried += 1
                    response = send()
                status, detail = response.status_code, response.text[:300]
                kept_alive = response.headers.get("Connection", "").lower() != "close"
                if self.observe and status in request.expected:
                    note = self.observe(response)
            except (requests.RequestException, ValueError) as error:
                status, detail, kept_alive = None, repr(error)[:300], False
            ok = status in request.expected
            outcome = Outcome(
                start,
                time.monotonic(),
                f"{request.method} {request.path}",
                status,
                ok,
                "" if ok else detail,
                note,
            )
            with self._lock:
                self.outcomes.append(outcome)
            if self.pause:
                time.sleep(self.pause)

    def __enter__(self) -> "Load":
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        self.stopped = time.monotonic()

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def failures(self, since: float = 0) -> list[Outcome]:
        return [o for o in self.snapshot() if not o.ok and o.end >= since]

    def notes(self, since: float = 0) -> Counter[str]:
        return Counter(o.note for o in self.snapshot() if o.note and o.end >= since)

    def summary(self) -> str:
        outcomes = self.snapshot()
        seconds = getattr(self, "stopped", time.monotonic()) - self.started
        statuses = Counter(o.status for o in outcomes)
        return (
            f"{len(outcomes)} requests in {seconds:.1f}s ({len(outcomes) / seconds:.0f}/s, "
            f"{self.connections} connections), {len(self.failures())} failed"
            + (f" ({self.retried} retried once, as browsers do)" if self.retried else "")
            + "; statuses "
            f"{dict(sorted(statuses.items(), key=str))}"
        )
