"""The harness's pytest fixtures, for the tests of every app (registered by the root
conftest.py): the production-like stack, Chromium on it, accounts in its database, and a
Docker engine for the Docker suite."""

import json
import re
import secrets
from collections.abc import Callable, Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from harness.accounts import Account, create_account
from harness.binaries import require
from harness.browser import launch_chromium
from harness.compose import engine_answers, write_env_file
from harness.project import ROOT, clean_environ, free_port, run_django_script
from harness.stack import Stack, TlsStack, production_like_stack, production_tls

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """gunicorn + nginx + PostgreSQL, migrated, static files collected, superuser created."""
    with production_like_stack(tmp_path_factory.mktemp("stack")) as running_stack:
        yield running_stack


@pytest.fixture(scope="session")
def tls_stack(stack, tmp_path_factory) -> Iterator[TlsStack]:
    """The stack's app as production serves it: https with a certificate from a local CA,
    plain http redirected, secure cookies."""
    with production_tls(stack, tmp_path_factory.mktemp("tls")) as running:
        yield running


@pytest.fixture
def stack_still_serving(stack) -> Iterator[None]:
    """After the test, the app still answers, through nginx, from the database."""
    yield
    response = requests.get(f"{stack.url}/health/", timeout=10)
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.fixture
def new_account(stack) -> Callable[..., Account]:
    """`new_account("ada")`: a new ordinary user named ada-<random>, in the stack's database
    (`superuser=True` for one of those)."""
    return lambda name, **kwargs: create_account(stack.env, name, **kwargs)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API, once per session (it cannot be started twice at once)."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    """One Chromium for the session.

    While Playwright's sync API is active, its event loop counts as running in this thread, and
    Django refuses ORM calls here (SynchronousOnlyOperation). Browser tests therefore never use
    the ORM in this process (users are made by manage.py, in a subprocess), and pytest-django
    runs every database test before them.
    """
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, stack) -> Iterator[Page]:
    """A fresh browser profile (no cookies) whose relative URLs go to the stack's nginx."""
    context = browser.new_context(base_url=stack.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, a screenshot of its page, taken while the page is still
    open, named after the test; the failure report says where it is."""
    report = yield
    page = item.funcargs.get("page") if report.when == "call" and report.failed else None
    if page is not None:
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)}.png"
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=path, full_page=True)
            message = f"saved to {path}"
        except Exception as error:  # never hide the test's own failure behind this one
            message = f"could not be taken: {error}"
        report.sections.append(("Screenshot", message))
    return report


@pytest.fixture(scope="session")
def engine() -> None:
    """A Docker engine that answers; without one, a failure in CI and a skip elsewhere."""
    require("docker" if engine_answers() else None, "A running Docker engine", "docker.io")


@pytest.fixture(scope="session")
def compose_env_file(tmp_path_factory, engine):
    """An env file as `make env` makes it (fresh secrets), for every compose project of the
    Docker suite: the developer's .env is never read."""
    path = tmp_path_factory.mktemp("compose") / "stack.env"
    write_env_file(path)
    return path


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3 API on loopback, for DJANGO_MEDIA_STORAGE=s3: moto's server, in this process;
    yields its endpoint."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings) -> str:
    """The test's settings switched to the storage that config/settings.py builds from the
    DJANGO_S3_* variables (read in a process of its own, as the app reads them), pointed at
    the server, with a new bucket; returns the bucket's name."""
    import boto3

    bucket = f"uploads-{secrets.token_hex(4)}"
    keys = {"DJANGO_S3_ACCESS_KEY_ID": "test-key", "DJANGO_S3_SECRET_ACCESS_KEY": "test-secret"}
    printed = run_django_script(
        "print_settings",
        env=clean_environ(
            HARNESS_SETTINGS="STORAGES,MEDIA_STORAGE",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_MEDIA_STORAGE="s3",
            DJANGO_S3_BUCKET=bucket,
            DJANGO_S3_ENDPOINT_URL=s3_server,
            DJANGO_S3_REGION="us-east-1",
            **keys,
        ),
    )
    built = json.loads(printed.stdout.splitlines()[-1])
    boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=keys["DJANGO_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["DJANGO_S3_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=bucket)
    settings.MEDIA_STORAGE = built["MEDIA_STORAGE"]
    settings.STORAGES = {**settings.STORAGES, "default": built["STORAGES"]["default"]}
    return bucket
