"""The share of the CPU other processes took during a measurement."""

from bench import cpu

STAT = "cpu  1000 50 300 9000 20 0 7 0 0 0\ncpu0 500 25 150 4500 10 0 3 0 0 0\n"


def test_machine_time_is_user_nice_and_system():
    assert cpu.machine_busy(STAT) == 1350


def test_time_stolen_by_the_hypervisor_counts_as_busy():
    """A virtual machine's CPU given to another guest was not ours to use either."""
    assert cpu.machine_busy("cpu  1000 50 300 9000 20 0 7 240 0 0\n") == 1350 + 240


def test_a_process_line_gives_parent_own_and_children_ticks():
    line = "4242 (gunicorn: worker [config.wsgi]) S 4200 4200 4200 0 -1 4194624 " + " ".join(
        ["0"] * 4 + ["120", "30", "7", "3"] + ["20", "0", "1"]
    )
    assert cpu.process_stat(line) == (4200, 150, 10)


def test_our_processes_are_the_roots_and_all_their_descendants():
    processes = {
        1: (0, 999, 0),  # init: not ours
        10: (1, 5, 2),  # the bench, with a reaped wrk
        11: (10, 40, 0),  # gunicorn master
        12: (11, 300, 0),  # a worker
        20: (1, 8, 0),  # postgres, detached, found by its port
        21: (20, 60, 0),
        30: (1, 700, 0),  # someone else's
    }
    assert cpu.ours(processes, {10, 20}) == 5 + 2 + 40 + 300 + 8 + 60


def test_foreign_share_is_what_the_machine_did_beyond_our_processes():
    ticks = cpu.os.sysconf("SC_CLK_TCK")
    before = cpu.Snapshot(at=0.0, busy=0, ours=0)
    after = cpu.Snapshot(at=2.0, busy=3 * ticks, ours=2 * ticks)  # 2 s on 2 CPUs: 4 s of CPU
    assert cpu.foreign_share(before, after, cpus=2) == 0.25
    assert cpu.foreign_share(before, before, cpus=2) == 0.0
