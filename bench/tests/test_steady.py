"""The fixed-rate load generator against a tiny local server, and its response parser."""

import contextlib
import multiprocessing
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection

import pytest

from bench import steady


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept-alive connections
    stall_first = 0.0  # seconds the very first request takes
    served = 0

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm holds
        # the body back for the client's delayed ACK (40 ms a request).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        type(self).served += 1
        if type(self).served == 1 and self.stall_first:
            time.sleep(self.stall_first)
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"Hello, ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"ok")
            self.close_connection = True
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/accounts/login/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def serve(stall_first: float, port: Connection) -> None:
    handler = type("TestHandler", (Handler,), {"stall_first": stall_first, "served": 0})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    port.send(httpd.server_address[1])
    httpd.serve_forever()


@contextlib.contextmanager
def server(stall_first: float = 0.0):
    """The test server in a process of its own: in the test's process its threads would take
    the GIL from the generator under test, and the generator's lateness would be theirs."""
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=serve, args=(stall_first, sending), daemon=True)
    process.start()
    try:
        assert receiving.poll(30), "the test server did not start"
        yield f"http://127.0.0.1:{receiving.recv()}"
    finally:
        process.terminate()
        process.join()


@pytest.mark.parametrize("path", ["/", "/chunked", "/close"])
def test_the_schedule_is_kept_and_every_request_answered(path):
    with server() as url:
        result = steady.run(f"{url}{path}", rate=200, seconds=1)
    assert result.due == 200
    assert result.answered == 200
    assert result.errors == 0
    assert result.achieved_rps == pytest.approx(200, rel=0.1)
    assert sum(result.histogram.values()) == 200


def test_kept_alive_connections_are_reused():
    with server() as url:
        result = steady.run(url, rate=100, seconds=0.5)
    assert result.connections <= 3


def test_a_server_that_closes_each_connection_gets_a_new_one_per_request():
    with server() as url:
        result = steady.run(f"{url}/close", rate=100, seconds=0.5)
    assert result.connections == result.due


def test_only_the_expected_status_is_a_success():
    with server() as url:
        redirected = steady.run(f"{url}/redirect", rate=100, seconds=0.3)
        expected = steady.run(f"{url}/redirect", rate=100, seconds=0.3, expected_status=302)
    assert redirected.errors == redirected.due
    assert expected.errors == 0


def test_requests_held_up_by_a_stall_count_from_when_they_were_due():
    """One connection, a server that takes 300 ms over its first answer: the 30 or so requests
    due meanwhile wait, and each one's wait is in its latency (a closed-loop tool would have
    sent them after the stall and timed them as fast)."""
    with server(stall_first=0.3) as url:
        result = steady.run(url, rate=100, seconds=1, connections=1)
    held_up = sum(n for microseconds, n in result.histogram.items() if microseconds > 100_000)
    assert held_up >= 15
    assert result.answered == result.due


def test_a_refused_connection_is_an_error_not_a_latency():
    with server() as url:
        pass  # closed again: nothing listens there now
    result = steady.run(url, rate=50, seconds=0.2)
    assert result.answered == 0
    assert result.socket_errors["connect"] == result.due
    assert result.errors == result.due


def test_a_response_split_anywhere_is_read_whole():
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
        b"4\r\nabcd\r\n3;name=value\r\nefg\r\n0\r\nTrailer: x\r\n\r\n"
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!"
    )
    for cut in range(1, len(raw)):
        connection = steady.Connection()
        connection.buffer += raw[:cut]
        first = connection.response()
        connection.buffer += raw[cut:]
        statuses = [first] if first is not None else []
        while (status := connection.response()) is not None:
            statuses.append(status)
        assert statuses == [200, 404], cut
        assert connection.buffer == b""


def test_the_request_is_a_plain_http11_get_with_the_scenarios_headers():
    raw = steady.request_bytes("http://127.0.0.1:8000/lists/?page=2", {"Cookie": "sessionid=x"})
    assert raw == (
        b"GET /lists/?page=2 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nCookie: sessionid=x\r\n\r\n"
    )


def test_a_generator_that_fell_behind_says_so():
    result = steady.Steady(
        rate=1000,
        seconds=1,
        due=1000,
        answered=1000,
        answered_seconds=1.4,
        statuses={200: 1000},
        socket_errors={},
        histogram={1000: 1000},
        lag_p99_ms=40.0,
        on_time_share=0.6,
        connections=4,
    )
    assert not result.generator_kept_up
    assert steady.result(result)["generator_kept_up"] is False
