"""How much of the machine's CPU went to processes that are not the bench's own during a
measurement: the bench, its children (wrk, gunicorn, nginx) and the throwaway PostgreSQL
(which detaches into its own session, so it is found by its port), or, on a virtual machine,
to other guests (steal). A busy neighbour slows every figure down; this says how busy it was."""

import os
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Snapshot:
    at: float
    busy: int  # clock ticks the whole machine spent in user and system mode, or stolen
    ours: int  # clock ticks of our processes, and of our children already waited for


def machine_busy(stat: str) -> int:
    """user + nice + system + steal ticks from /proc/stat's first line. Steal is the time a
    virtual machine's CPUs were runnable but given to other guests by the hypervisor: as much
    a busy neighbour as a process here (interrupt handling, which no process is charged for,
    is left out on both sides)."""
    fields = stat.splitlines()[0].split()
    assert fields[0] == "cpu", fields
    user, nice, system = (int(value) for value in fields[1:4])
    steal = int(fields[8]) if len(fields) > 8 else 0
    return user + nice + system + steal


def process_stat(text: str) -> tuple[int, int, int]:
    """(parent pid, own ticks, ticks of waited-for children) from /proc/PID/stat."""
    fields = text[text.rindex(")") + 2 :].split()
    # After the command: state, ppid, ... utime is field 14 of the whole line, here index 11.
    ppid, utime, stime, cutime, cstime = (int(fields[i]) for i in (1, 11, 12, 13, 14))
    return ppid, utime + stime, cutime + cstime


def processes() -> dict[int, tuple[int, int, int]]:
    """Every process now: {pid: (parent pid, own ticks, ticks of waited-for children)}."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = process_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return found


def _postmaster(port: str) -> int | None:
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if args[0].endswith(b"postgres") and b"-p" in args and port.encode() in args:
                return int(entry.name)
    return None


def ours(processes: dict[int, tuple[int, int, int]], roots: set[int]) -> int:
    """Ticks of `roots` and all their descendants (children reaped by a root count too)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [pid for pid in roots if pid in processes]
    while todo:
        pid = todo.pop()
        _, own, reaped = processes[pid]
        total += own + reaped
        todo += children.get(pid, [])
    return total


def snapshot() -> Snapshot:
    roots = {os.getpid()}
    if port := os.environ.get("DJANGO_DB_PORT"):
        postmaster = _postmaster(port)
        if postmaster:
            roots.add(postmaster)
    busy = machine_busy((PROC / "stat").read_text())
    return Snapshot(at=time.monotonic(), busy=busy, ours=ours(processes(), roots))


def foreign_share(before: Snapshot, after: Snapshot, cpus: int | None = None) -> float:
    """The share (0 to 1) of the machine's capacity used by other processes in between."""
    ticks = os.sysconf("SC_CLK_TCK")
    capacity = (after.at - before.at) * ticks * (cpus or os.cpu_count() or 1)
    if capacity <= 0:
        return 0.0
    foreign = (after.busy - before.busy) - (after.ours - before.ours)
    return round(min(1.0, max(0.0, foreign / capacity)), 3)
