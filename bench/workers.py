"""The app's gunicorn workers, read from /proc: how a round's CPU split between them (load
that lands on one worker while the other idles caps the rate and the latency), whether any
was restarted, and the memory of the master and the workers."""

import os
from pathlib import Path

from bench import cpu

PROC = Path("/proc")


def worker_ticks(master: int, processes: dict[int, tuple[int, int, int]] | None = None) -> dict:
    """{pid: CPU ticks so far} of the master's children, its workers."""
    found = cpu.processes() if processes is None else processes
    return {pid: own for pid, (parent, own, _) in found.items() if parent == master}


def split(before: dict[int, int], after: dict[int, int], seconds: float) -> dict:
    """What the workers did between two readings of worker_ticks: each one's share of their
    CPU (by pid, in pid order), the CPUs they kept busy together, and how many workers came or
    went (a restart in the middle of a round)."""
    used = {pid: ticks - before.get(pid, 0) for pid, ticks in sorted(after.items())}
    total = sum(used.values())
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    return {
        "shares": [round(ticks / total, 2) for ticks in used.values()] if total else [],
        "cpus": round(total / ticks_per_second / seconds, 2) if seconds > 0 else 0.0,
        "cpu_seconds": round(total / ticks_per_second, 2),
        "restarted": len(before.keys() - after.keys()),
    }


def describe_shares(shares: list[float]) -> str:
    """62/38: the workers' percentages of the CPU they used, in pid order."""
    return "/".join(f"{share:.0%}".removesuffix("%") for share in shares) or "-"


def rollup(text: str) -> dict[str, int]:
    """Rss and Pss in KiB from /proc/PID/smaps_rollup."""
    found = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            found[name.lower() + "_kib"] = int(rest.split()[0])
    return found


def memory(master: int) -> dict:
    """The resident memory of the master and the sum over its workers. Pss shares every page
    among the processes that map it: the pages the workers share with the master since the
    fork count once over all of them, where Rss counts them in every process (the sum of Rss
    overstates what the app takes from the machine)."""
    workers = {"rss_kib": 0, "pss_kib": 0, "count": 0}
    found = {"master": {}, "workers": workers}
    for pid in [master, *worker_ticks(master)]:
        try:
            figures = rollup((PROC / str(pid) / "smaps_rollup").read_text())
        except OSError:
            continue  # gone meanwhile
        if pid == master:
            found["master"] = figures
        else:
            workers["count"] += 1
            for name, kib in figures.items():
                workers[name] += kib
    return found
