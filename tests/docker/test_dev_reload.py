"""The development stack follows the working tree: an edited template, view or stylesheet
shows on gunicorn's port and through nginx without a rebuild or a restart. The stack runs from
a copy of the project (its own compose project), so the test edits that copy, never yours."""

import time
from http import HTTPStatus

import pytest
import requests

from harness.compose import DEV, Compose
from harness.project import copy_working_tree
from harness.waiting import WaitTimeout, wait_until

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def stack(compose_env_file, tmp_path_factory):
    copy = copy_working_tree(tmp_path_factory.mktemp("reload") / "project")
    compose = Compose("reload", compose_env_file, files=DEV, directory=copy)
    compose.run("build", "web", timeout=900)
    compose.down(volumes=True)
    try:
        compose.up("web", "nginx")
        yield compose
    finally:
        compose.run("down", "--volumes", "--remove-orphans", check=False)


# What each port answered last, for the message of a failure.
last_seen: dict[str, str] = {}


def both_show(stack: Compose, path: str, text: str) -> bool:
    """The text at `path` on gunicorn's own port and through nginx."""
    for variable in ("WEB_PORT", "NGINX_PORT"):
        try:
            response = requests.get(f"{stack.url(variable)}{path}", timeout=5)
        except requests.RequestException as error:
            last_seen[variable] = repr(error)
            return False
        last_seen[variable] = f"{response.status_code} {response.text[:300]}"
        if response.status_code != HTTPStatus.OK or text not in response.text:
            return False
    return True


def edit(stack: Compose, name: str, old: str, new: str) -> None:
    path = stack.directory / name
    text = path.read_text()
    assert old in text, f"{name} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1))


def test_an_edited_template_shows_on_the_next_request(stack):
    assert both_show(stack, "/", "<h1>")
    edit(stack, "templates/home.html", "<h1>{{ project_name }}</h1>", "<h1>Edited home</h1>")
    assert both_show(stack, "/", "<h1>Edited home</h1>")


def test_an_edited_stylesheet_shows_on_the_next_request(stack):
    """Served from the working tree in development, at :8001 and through nginx alike, with
    no collectstatic."""
    assert both_show(stack, "/static/site.css", ".site-header")
    edit(stack, "static/site.css", ".site-header {", ".edited-header, .site-header {")
    assert both_show(stack, "/static/site.css", ".edited-header")


def test_an_edited_view_is_reloaded_without_a_restart(stack):
    """gunicorn reloads its workers on a Python change (a second or two), the container
    keeps running."""
    started_at = stack.inspect("web", "{{.State.StartedAt}}")
    edit(stack, "ops/views.py", '"database": "ok",', '"database": "ok", "edited": True,')
    changed = time.monotonic()
    try:
        wait_until(
            lambda: both_show(stack, "/health/", '"edited": true'),
            timeout=30,
            interval=0.5,
            message="the edited view was not reloaded",
        )
    except WaitTimeout as timeout:
        raise WaitTimeout(f"{timeout}: {last_seen}") from None
    print(f"view reloaded {time.monotonic() - changed:.1f}s after the edit")
    assert stack.inspect("web", "{{.State.StartedAt}}") == started_at
