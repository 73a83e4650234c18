"""How many gunicorn workers the web container starts by default: one per CPU its quota allows,
as many as its memory holds. Read from cgroup files laid out here as the kernel lays them out
(v2 in a container with its own cgroup namespace, v1 as Docker mounts each controller); the
Docker suite starts the image under real limits (tests/docker/test_image.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from config.gunicorn import MIB, cpu_limit, default_workers, memory_limit
from harness.project import ROOT, clean_environ, free_port
from harness.stack import running

HOST_CPUS = os.process_cpu_count() or 1


def cgroup(root: Path, files: dict[str, str]) -> Path:
    for name, value in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(value + "\n")
    return root


def v2(root: Path, cpu: str = "max 100000", memory: str = "max") -> Path:
    return cgroup(root, {"cpu.max": cpu, "memory.max": memory})


def v1(root: Path, quota: str = "-1", memory: str = str(2**63 - 4096)) -> Path:
    return cgroup(
        root,
        {
            "cpu/cpu.cfs_quota_us": quota,
            "cpu/cpu.cfs_period_us": "100000",
            "memory/memory.limit_in_bytes": memory,
        },
    )


@pytest.mark.parametrize("layout", [v2, v1])
def test_without_limits_the_host_cpus_count(tmp_path, layout):
    root = layout(tmp_path)
    assert (cpu_limit(root), memory_limit(root)) == (None, None)
    assert default_workers(4, root) == HOST_CPUS


def test_no_cgroup_files_at_all_count_the_host_cpus(tmp_path):
    assert default_workers(4, tmp_path) == HOST_CPUS


def test_a_cpu_quota_sets_the_count_rounded_up(tmp_path):
    one_and_a_half = v2(tmp_path / "v2", cpu="150000 100000")
    assert cpu_limit(one_and_a_half) == 1.5
    assert default_workers(1, one_and_a_half) == min(2, HOST_CPUS)
    half = v1(tmp_path / "v1", quota="50000")
    assert cpu_limit(half) == 0.5
    assert default_workers(1, half) == 1


def test_the_memory_limit_caps_the_count(tmp_path):
    """A worker of 4 threads may need 460 MiB (60, and 100 for each password being hashed)."""
    small = v2(tmp_path / "v2", cpu="3200000 100000", memory=str(256 * MIB))
    assert memory_limit(small) == 256 * MIB
    assert default_workers(4, small) == 1  # not 32, and never none
    one_gib = v1(tmp_path / "v1", quota="3200000", memory=str(1024 * MIB))
    assert default_workers(4, one_gib) == min(2, HOST_CPUS)
    assert default_workers(1, one_gib) == min(6, HOST_CPUS)


def test_web_concurrency_wins_over_the_default():
    shown = subprocess.run(
        [sys.executable, "-c", "from config import gunicorn; print(gunicorn.workers)"],
        env=clean_environ(WEB_CONCURRENCY="7"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "7"


def collector_probe(environ, start_response):
    """A WSGI app for the test below: what a worker's garbage collector walks and what it
    leaves alone, as gunicorn's settings leave them after preloading this module."""
    import gc
    import json

    body = json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]


def test_workers_collect_garbage_without_walking_the_preloaded_app(tmp_path):
    """What the master loaded before forking is frozen: a worker's full collection walks only
    what the worker made since, not the app, so it stalls the worker's threads for a few ms
    instead of tens."""
    port = free_port()
    env = clean_environ(WEB_CONCURRENCY="1", GUNICORN_BIND=f"127.0.0.1:{port}")
    app = f"{__name__}:collector_probe"
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "gunicorn", "--config", "python:config.gunicorn", app]
    with running(command, env, tmp_path / "gunicorn.log", url):
        seen = requests.get(url, timeout=10).json()
    # The settings and this module's imports (pytest's among them) are tens of thousands of
    # objects; a worker that has answered one request has made a few hundred.
    assert seen["frozen"] > 10_000, seen
    assert seen["tracked"] < seen["frozen"] / 5, seen
