"""Following the migrate job through `docker inspect`, which describes whatever tasks still
exist: Swarm drops old tasks at any moment, between two calls or during one."""

import json
import subprocess

import pytest

from swarm import jobs

FIRST_RUN_TASK = {"ID": "a1", "Status": {"State": "complete"}, "JobIteration": {}}
SECOND_RUN_TASK = {"ID": "b2", "Status": {"State": "running"}, "JobIteration": {"Index": 1}}


def answers(*results: tuple[int, str]):
    """A stand-in for jobs.docker that answers each call with the next (code, stdout)."""
    replies = iter(results)

    def docker(*args, check=True, **kwargs):
        code, out = next(replies)
        return subprocess.CompletedProcess(["docker", *args], code, out, "")

    return docker


@pytest.mark.parametrize(
    ("inspected", "iteration", "expected"),
    [
        # The first run: Swarm leaves the index 0 out of the JSON.
        ((0, json.dumps([FIRST_RUN_TASK, SECOND_RUN_TASK])), 0, ["a1"]),
        ((0, json.dumps([FIRST_RUN_TASK, SECOND_RUN_TASK])), 1, ["b2"]),
        # One task vanished between the listing and the inspection: an error for it, and
        # the others described all the same.
        ((1, json.dumps([SECOND_RUN_TASK])), 1, ["b2"]),
        # Every task vanished: nothing described, nothing found (asked again next second).
        ((1, "[]"), 1, []),
        ((1, ""), 1, []),
        # A half-written answer is no answer.
        ((0, '[{"ID": "b2", "Status"'), 1, []),
    ],
)
def test_the_tasks_of_a_run_are_found_whatever_vanished(
    monkeypatch, inspected, iteration, expected
):
    monkeypatch.setattr(jobs, "docker", answers((0, "a1\nb2\n"), inspected))
    assert [task["ID"] for task in jobs.job_tasks("stack_migrate", iteration)] == expected


def test_a_job_without_tasks_yet_has_none(monkeypatch):
    monkeypatch.setattr(jobs, "docker", answers((0, "")))
    assert jobs.job_tasks("stack_migrate", 0) == []


@pytest.mark.parametrize(
    ("service", "iteration"),
    [
        ({}, 0),
        ({"JobStatus": {}}, 0),
        ({"JobStatus": {"JobIteration": {"Index": 3}}}, 3),
        (None, 0),
    ],
)
def test_the_run_of_a_job_is_counted_from_zero(service, iteration):
    assert jobs.job_iteration(service) == iteration


NOT_STARTED = (
    "starting container failed: unable to remount dir as readonly: device or resource busy"
)


def follow_job(monkeypatch, runs: list[dict]) -> list[int]:
    """run_job against a stand-in Swarm in which each deploy starts the next of `runs` (a
    task's status); returns the iterations deployed."""
    deployed: list[int] = []

    def stack_deploy(config, stack, *, wait):
        deployed.append(len(deployed) + 1)

    monkeypatch.setattr(jobs, "stack_deploy", stack_deploy)
    monkeypatch.setattr(
        jobs,
        "service",
        lambda stack, name: {"JobStatus": {"JobIteration": {"Index": len(deployed)}}},
    )
    monkeypatch.setattr(
        jobs,
        "job_tasks",
        lambda name, iteration: [{"ID": f"t{iteration}", "Status": runs[iteration - 1]}],
    )
    monkeypatch.setattr(jobs, "docker", answers(*[(0, "the job's log\n")] * 4))
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)
    config = {"services": {"migrate": {"image": "web:1"}}}
    jobs.run_job(config, "stack")
    return deployed


def test_a_job_whose_container_did_not_start_is_run_again(monkeypatch):
    """The engine failed to mount the secrets: no migration ran, so a second run is safe."""
    runs = [{"State": "failed", "Err": NOT_STARTED}, {"State": "complete"}]
    assert follow_job(monkeypatch, runs) == [1, 2]


def test_a_job_that_ran_and_failed_is_not_run_again(monkeypatch):
    runs = [{"State": "failed", "Err": "task: non-zero exit (1)"}, {"State": "complete"}]
    with pytest.raises(jobs.SwarmError, match="non-zero exit"):
        follow_job(monkeypatch, runs)


def test_a_job_that_never_starts_fails_after_three_tries(monkeypatch):
    runs = [{"State": "failed", "Err": NOT_STARTED}] * 4
    with pytest.raises(jobs.SwarmError, match="starting container failed"):
        follow_job(monkeypatch, runs)
