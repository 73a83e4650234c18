"""Error reporting to Sentry, or to any service that speaks its protocol (GlitchTip, a
self-hosted Sentry). settings.py imports this module only when SENTRY_DSN is set: without
it the SDK is never loaded and nothing leaves the machine.

What is sent: unhandled errors in requests, records logged at ERROR (a failed task among
them, by the worker) and a sample of transactions with their timings, each with the release
and the environment, so that a report says which version failed where.
"""

import tomllib

import sentry_sdk

from config.env import BASE_DIR


def project_release() -> str:
    """<project>@<version> from pyproject.toml, which the image carries with the code."""
    project = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]
    return f"{project['name']}@{project['version']}"


def start_reporting(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or project_release(),
        traces_sample_rate=traces_sample_rate,
        # Users' addresses, cookies and request bodies stay here unless a project opts in.
        send_default_pii=False,
    )
