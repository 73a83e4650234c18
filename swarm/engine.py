"""Talking to the Docker engine, and the one kind of error the deploy tool reports."""

import subprocess


class SwarmError(Exception):
    """Stops the tool with a one-line message (and a non-zero exit code)."""


def docker(*args: str, input: str | None = None, check: bool = True, timeout: float = 120):
    result = subprocess.run(
        ["docker", *args], input=input, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise SwarmError(f"docker {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result


def say(message: str) -> None:
    print(f"swarm: {message}", flush=True)
