"""The gunicorn workers' CPU split and memory, from /proc."""

from bench import workers

ROLLUP = """55d1c0a4e000-7ffd3b9e1000 ---p 00000000 00:00 0                          [rollup]
Rss:               61320 kB
Pss:               24110 kB
Pss_Anon:          20010 kB
Shared_Clean:      30000 kB
"""


def test_the_workers_are_the_masters_children():
    processes = {10: (1, 5, 0), 11: (10, 300, 0), 12: (10, 200, 0), 13: (11, 7, 0)}
    assert workers.worker_ticks(10, processes) == {11: 300, 12: 200}


def test_the_split_is_each_workers_share_of_the_rounds_worker_cpu():
    ticks = workers.os.sysconf("SC_CLK_TCK")
    before = {11: 100, 12: 100}
    after = {11: 100 + 3 * ticks, 12: 100 + ticks}
    assert workers.split(before, after, seconds=2) == {
        "shares": [0.75, 0.25],
        "cpus": 2.0,
        "cpu_seconds": 4.0,
        "restarted": 0,
    }


def test_a_worker_replaced_during_the_round_shows():
    result = workers.split({11: 50, 12: 50}, {11: 150, 13: 100}, seconds=1)
    assert result["restarted"] == 1
    assert result["shares"] == [0.5, 0.5]


def test_idle_workers_have_no_split():
    assert workers.split({11: 5}, {11: 5}, seconds=1)["shares"] == []


def test_the_split_reads_as_percentages():
    assert workers.describe_shares([0.62, 0.38]) == "62/38"
    assert workers.describe_shares([]) == "-"


def test_memory_comes_from_smaps_rollup_in_kib():
    assert workers.rollup(ROLLUP) == {"rss_kib": 61320, "pss_kib": 24110}


def test_memory_of_this_process_and_its_children():
    """The test process stands for a master; whatever children it has are its workers."""
    found = workers.memory(workers.os.getpid())
    assert found["master"]["rss_kib"] >= found["master"]["pss_kib"] > 0
    assert found["workers"]["count"] >= 0
