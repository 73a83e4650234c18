"""A constant-rate (open-loop) load: requests are due on a fixed schedule whatever the server
answers, and each one's latency runs from the moment it was due, not from when it could be
sent. A closed-loop tool such as wrk sends less while the server stalls and so never sees the
requests that would have waited (coordinated omission); here they wait in a queue, and the
wait counts.

Plain asyncio: kept-alive HTTP/1.1 connections, a new one opened whenever all are busy, up to
a cap (wrk's connection count), responses read by Content-Length or chunked encoding (nginx
gzips HTML on the fly). The generator times itself too: when it sends late (a busy machine, a
rate too high for one Python thread), it says so rather than pass its own delay off as the
server's.
"""

import asyncio
import collections
import contextlib
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench import latency

CONNECTIONS = 32
TIMEOUT_S = 2
# The generator is behind when its sends are this late at the 99th percentile: a fifth of the
# 50 ms p99 goal at half rate. Below it, its lag is reported beside the latencies it adds to
# (a busy machine wakes a sleeping Python thread a few milliseconds late now and then).
MAX_LAG_MS = 10


@dataclass(frozen=True)
class Steady:
    """What a fixed-rate load measured."""

    rate: float  # asked, requests per second
    seconds: float  # the schedule's length
    due: int  # requests in the schedule
    answered: int  # responses of any status
    answered_seconds: float  # the schedule, or longer: up to the last response
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    histogram: dict[int, int]  # {microseconds from due to answered: requests}
    lag_p99_ms: float  # how late the generator itself was, at the 99th percentile
    on_time_share: float  # requests put out within MAX_LAG_MS of their due time
    connections: int  # opened, over the whole run
    expected_status: int = 200

    @property
    def achieved_rps(self) -> float:
        return self.answered / self.answered_seconds if self.answered_seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        """Socket errors, requests never answered, and responses of another status."""
        wrong = sum(n for status, n in self.statuses.items() if status != self.expected_status)
        return sum(self.socket_errors.values()) + wrong

    @property
    def generator_kept_up(self) -> bool:
        return self.lag_p99_ms <= MAX_LAG_MS


class Connection(asyncio.Protocol):
    """One kept-alive connection of a `_Load`, one request at a time (no pipelining)."""

    def __init__(self, load: "_Load | None" = None) -> None:
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.head: tuple[int, dict[str, str]] | None = None
        self.body_at = 0
        self.scanned = 0  # how far the chunked body has been walked
        self.due: float | None = None  # of the request in flight
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        if self.load:
            self.load.take_next(self)

    def send(self, due: float) -> None:
        self.due = due
        self.transport.write(self.load.raw)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        status = self.response()
        if status is not None and self.due is not None and self.load:
            due, self.due = self.due, None
            self.load.answered(self, due, status)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.load is None:
            return
        if self.due is not None:
            due, self.due = self.due, None
            if self.head and self._reads_to_close():
                self.load.answered(self, due, self.head[0])
            else:
                self.load.failed(due, "read")
        self.load.lost(self)

    def close(self) -> None:
        self.closed = True
        if self.transport:
            self.transport.close()

    def response(self) -> int | None:
        """The status of the response in the buffer once all of it is there (and the buffer
        then cleared of it); None while it is incomplete."""
        if self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return None
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip().lower()
            self.head = (int(lines[0].split()[1]), fields)
            self.body_at = self.scanned = end + 4
        status, fields = self.head
        if 100 <= status < 200 or status in (204, 304):
            end = self.body_at
        elif "chunked" in fields.get("transfer-encoding", ""):
            end = self._chunked_end()
        elif "content-length" in fields:
            end = self.body_at + int(fields["content-length"])
            if len(self.buffer) < end:
                return None
        else:
            return None  # the body ends when the server closes the connection
        if end is None:
            return None
        del self.buffer[:end]
        self.head = None
        if fields.get("connection") == "close":
            self.close()
        return status

    def _reads_to_close(self) -> bool:
        _, fields = self.head or (0, {})
        return "chunked" not in fields.get("transfer-encoding", "") and (
            "content-length" not in fields
        )

    def _chunked_end(self) -> int | None:
        while True:
            line_end = self.buffer.find(b"\r\n", self.scanned)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[self.scanned : line_end]).split(b";")[0], 16)
            if size == 0:
                # Trailer fields, if any, then an empty line.
                end = self.buffer.find(b"\r\n\r\n", line_end)
                return None if end < 0 else end + 4
            chunk_end = line_end + 2 + size + 2
            if len(self.buffer) < chunk_end:
                return None
            self.scanned = chunk_end


class _Load:
    """The connections and the requests waiting for one. Callbacks rather than a task per
    request: the generator has to stay cheap beside the server it loads on the same CPUs."""

    def __init__(self, url: str, headers: dict[str, str], cap: int) -> None:
        self.loop = asyncio.get_running_loop()
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.raw = request_bytes(url, headers)
        self.cap = cap
        self.idle: list[Connection] = []
        self.live: set[Connection] = set()
        self.connecting = 0
        self.waiting: collections.deque[float] = collections.deque()
        self.histogram: collections.Counter[int] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.socket_errors: collections.Counter[str] = collections.Counter()
        self.connections = 0
        self.outstanding = 0
        self.last_answer = 0.0
        self.scheduled_all = False
        self.finished = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()

    def dispatch(self, due: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.pop().send(due)
            return
        self.waiting.append(due)
        # Every connection is busy: open another rather than let the request wait, up to
        # the cap (beyond it the request waits, and its latency shows it).
        if len(self.live) + self.connecting < self.cap:
            self.connect()

    def connect(self) -> None:
        self.connecting += 1
        self.connections += 1
        task = self.loop.create_task(self._connect())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _connect(self) -> None:
        try:
            _, connection = await self.loop.create_connection(
                lambda: Connection(self), self.host, self.port
            )
        except OSError:
            self.connecting -= 1
            if self.waiting:
                self.failed(self.waiting.popleft(), "connect")
            return
        self.connecting -= 1
        self.live.add(connection)

    def take_next(self, connection: Connection) -> None:
        if connection.closed:
            return
        if self.waiting:
            connection.send(self.waiting.popleft())
        else:
            self.idle.append(connection)

    def answered(self, connection: Connection, due: float, status: int) -> None:
        now = self.loop.time()
        self.histogram[round((now - due) * 1e6)] += 1
        self.statuses[status] += 1
        self.last_answer = now
        self._one_done()
        self.take_next(connection)

    def failed(self, due: float, kind: str) -> None:
        self.socket_errors[kind] += 1
        self._one_done()

    def lost(self, connection: Connection) -> None:
        self.live.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)
        if self.waiting and len(self.live) + self.connecting < self.cap:
            self.connect()

    def _one_done(self) -> None:
        self.outstanding -= 1
        if self.scheduled_all and self.outstanding == 0:
            self.finished.set()

    def close(self) -> None:
        for connection in list(self.live):
            connection.close()
        for task in self.tasks:
            task.cancel()


def request_bytes(url: str, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _load(
    url: str, *, rate: float, seconds: float, headers: dict[str, str], connections: int
) -> tuple[_Load, list[float], int, float]:
    loop = asyncio.get_running_loop()
    load = _Load(url, headers, connections)
    due_count = max(1, round(rate * seconds))
    lags = []
    start = loop.time() + 0.01
    for number in range(due_count):
        due = start + number / rate
        # Always through the event loop, even when late: the answers must be read meanwhile.
        await asyncio.sleep(max(0.0, due - loop.time()))
        lags.append(max(0.0, loop.time() - due))
        load.dispatch(due)
    load.scheduled_all = True
    if load.outstanding:
        # What is still waiting or in flight gets the time wrk gives a request.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(load.finished.wait(), TIMEOUT_S + 1)
    load.close()
    await asyncio.sleep(0)  # let the transports close
    return load, lags, due_count, start


def run(
    url: str,
    *,
    rate: float,
    seconds: float,
    headers: dict[str, str] | None = None,
    expected_status: int = 200,
    connections: int = CONNECTIONS,
) -> Steady:
    """`rate` GET requests a second to `url` for `seconds`. A request not answered within
    TIMEOUT_S of the schedule's end counts as a timeout."""
    load, lags, due, start = asyncio.run(
        _load(url, rate=rate, seconds=seconds, headers=headers or {}, connections=connections)
    )
    socket_errors = {"connect": 0, "read": 0, "timeout": 0, **load.socket_errors}
    socket_errors["timeout"] += load.outstanding
    lags.sort()
    on_time = sum(1 for lag in lags if lag * 1000 <= MAX_LAG_MS)
    return Steady(
        rate=rate,
        seconds=seconds,
        due=due,
        answered=sum(load.statuses.values()),
        # Never shorter than the schedule: the last answer can come before its end.
        answered_seconds=max(seconds, load.last_answer - start),
        statuses=dict(load.statuses),
        socket_errors=socket_errors,
        histogram=dict(load.histogram),
        lag_p99_ms=round(lags[max(0, math.ceil(len(lags) * 0.99) - 1)] * 1000, 2),
        on_time_share=round(on_time / len(lags), 3),
        connections=load.connections,
        expected_status=expected_status,
    )


def result(steady: Steady) -> dict:
    """Its entry in latest.json."""
    return {
        "rate": round(steady.rate, 1),
        "achieved_rps": round(steady.achieved_rps, 1),
        "seconds": steady.seconds,
        **latency.summary(steady.histogram),
        "errors": steady.errors,
        "statuses": {str(status): n for status, n in sorted(steady.statuses.items())},
        "socket_errors": steady.socket_errors,
        "connections": steady.connections,
        "generator_lag_p99_ms": steady.lag_p99_ms,
        "generator_on_time_share": steady.on_time_share,
        "generator_kept_up": steady.generator_kept_up,
    }
