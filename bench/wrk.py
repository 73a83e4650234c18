"""Driving wrk and reading what bench/report.lua prints."""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).with_name("report.lua")
MARKER = "BENCH_JSON "

# One setting for every scenario, so that the ratios compare like with like.
THREADS = 2
CONNECTIONS = 32
TIMEOUT_S = 2


@dataclass(frozen=True)
class Load:
    """What wrk measured for one scenario."""

    requests: int
    seconds: float
    bytes: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: dict[str, int]
    statuses: dict[int, int] = field(default_factory=dict)
    expected_status: int = 200
    histogram: dict[int, int] = field(default_factory=dict)  # {microseconds: requests}

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bad_statuses(self) -> int:
        """Responses with another status than the scenario's: a 302 to the sign-in page is
        fast and wrong, not a success."""
        return sum(n for status, n in self.statuses.items() if status != self.expected_status)

    @property
    def errors(self) -> int:
        """Socket errors (connect, read, write, timeout) plus responses of another status."""
        return sum(self.socket_errors.values()) + self.bad_statuses

    @property
    def bytes_per_request(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0


def parse(stdout: str, *, expected_status: int = 200) -> Load:
    """The Load in wrk's output; ValueError if report.lua's line is missing."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        raise ValueError(f"no {MARKER.strip()} line in wrk's output:\n{stdout}")
    latency = data["latency_us"]
    flat = data.get("histogram_us", [])
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        bytes=data["bytes"],
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        socket_errors=dict(data["socket_errors"]),
        statuses={int(status): n for status, n in data["statuses"].items()},
        expected_status=expected_status,
        histogram=dict(zip(flat[::2], flat[1::2], strict=True)),
    )


def command(url: str, *, seconds: float, headers: dict[str, str]) -> list[str]:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    args = [
        wrk,
        f"--threads={THREADS}",
        f"--connections={CONNECTIONS}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_S}s",
        f"--script={SCRIPT}",
    ]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    return [*args, url]


def run(url: str, *, seconds: float, headers: dict[str, str], expected_status: int = 200) -> Load:
    result = subprocess.run(
        command(url, seconds=seconds, headers=headers),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return parse(result.stdout, expected_status=expected_status)
