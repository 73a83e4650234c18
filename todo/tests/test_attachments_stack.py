"""Attachments on the production-like stack: uploads through nginx into the media folder,
downloads that Django allows and nginx sends (X-Accel-Redirect), the limits of both, and a
large download that leaves gunicorn's memory where it was."""

import hashlib
import json
import re
import time
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

from harness.accounts import sign_in
from harness.project import run_django_script
from ops.private_media import DOWNLOAD_POLICY

from .site import attachments, new_item, upload

pytestmark = pytest.mark.stack

SCRIPT = Path(__file__).parent / "scripts" / "attach_file.py"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
MiB = 1024 * 1024
# What a 200 MiB download may add to gunicorn's memory: nothing of the file passes through it.
LARGE_MIB, RSS_BOUND_KIB = 200, 5 * 1024


@pytest.fixture(scope="module")
def owner(stack, tmp_path_factory):
    """A user signed in through nginx, with an item of their own: (session, item id)."""
    from harness.accounts import create_account

    account = create_account(stack.env, "owner")
    session, _ = sign_in(stack.url, account)
    return session, new_item(session, stack.url)


def media_files(stack) -> set[Path]:
    return {path for path in stack.media.rglob("*") if path.is_file()}


def attachment_rows(stack) -> int:
    with stack.database() as connection:
        return connection.execute("SELECT count(*) FROM todo_attachment").fetchone()[0]


def test_an_upload_through_nginx_is_stored_and_sent_back_by_nginx(stack, owner):
    session, item = owner
    before = media_files(stack)
    response = upload(session, stack.url, item, "Holiday photo.png", PNG)
    assert response.status_code == HTTPStatus.FOUND, response.text[:500]
    [written] = media_files(stack) - before
    assert written.parent.name == "attachments"
    assert written.read_bytes() == PNG

    download = session.get(
        f"{stack.url}{attachments(session, stack.url, item)['Holiday photo.png']}"
    )
    assert download.status_code == HTTPStatus.OK
    assert download.content == PNG
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"] == 'inline; filename="Holiday photo.png"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == DOWNLOAD_POLICY
    # nginx sent the file (it knows its size and date); Django's answer had no body.
    assert download.headers["Content-Length"] == str(len(PNG))
    assert "Last-Modified" in download.headers
    assert "X-Accel-Redirect" not in download.headers
    assert "private" in download.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("page.html", HTML, "text/html"), ("drawing.svg", SVG, "image/svg+xml")],
)
def test_html_and_svg_are_downloads_never_pages(stack, owner, name, content, content_type):
    session, item = owner
    assert upload(session, stack.url, item, name, content).status_code == HTTPStatus.FOUND
    download = session.get(f"{stack.url}{attachments(session, stack.url, item)[name]}")
    assert download.content == content
    assert download.headers["Content-Type"] == content_type
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert download.headers["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_another_user_and_a_guessed_path_get_nothing(stack, owner, new_account):
    session, item = owner
    upload(session, stack.url, item, "secret.txt", b"the owner's only")
    path = attachments(session, stack.url, item)["secret.txt"]
    other, _ = sign_in(stack.url, new_account("other"))
    assert other.get(f"{stack.url}{path}", timeout=10).status_code == HTTPStatus.NOT_FOUND
    # The file's own name, under every prefix it could be guessed at: nginx's internal
    # location is for Django's redirects only, and nothing serves /media/.
    stored = next(p for p in media_files(stack) if p.read_bytes() == b"the owner's only")
    name = f"attachments/{stored.name}"
    for guess in (f"/_private-media/{name}", f"/media/{name}", f"/_private-media/../{name}"):
        for client in (session, other, requests):
            response = client.get(f"{stack.url}{guess}", timeout=10)
            assert response.status_code == HTTPStatus.NOT_FOUND, (guess, response.status_code)
            assert b"the owner's only" not in response.content


def test_an_oversized_upload_is_refused_by_nginx_and_nothing_is_written(stack, owner):
    """Over DJANGO_MAX_UPLOAD_MB + 1 MB (10 + 1 by default): nginx answers 413 itself."""
    session, item = owner
    files, rows = media_files(stack), attachment_rows(stack)
    response = upload(session, stack.url, item, "big.bin", b"x" * (12 * MiB))
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    # Just over the file limit but within nginx's: Django's form refuses it.
    response = upload(session, stack.url, item, "big.bin", b"x" * (10 * MiB + 1))
    assert response.status_code == HTTPStatus.OK
    assert "The file is larger than 10 MB." in response.text
    assert (media_files(stack), attachment_rows(stack)) == (files, rows)


def test_a_large_download_is_streamed_by_nginx_without_gunicorn_growing(stack, owner, capsys):
    session, item = owner
    made = json.loads(
        run_django_script(
            SCRIPT,
            env={**stack.env, "HARNESS_ITEM": str(item), "HARNESS_MEGABYTES": str(LARGE_MIB)},
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    session.get(f"{stack.url}/todo/", timeout=10)  # every worker has served a page
    before = stack.gunicorn_rss()
    started = time.monotonic()
    digest, received = hashlib.sha256(), 0
    with session.get(f"{stack.url}{made['path']}", stream=True, timeout=60) as response:
        assert response.status_code == HTTPStatus.OK
        for chunk in response.iter_content(MiB):
            digest.update(chunk)
            received += len(chunk)
    seconds = time.monotonic() - started
    after = stack.gunicorn_rss()
    growth = {pid: after.get(pid, 0) - rss for pid, rss in before.items()}
    # gunicorn's access log: the status, the bytes it sent, its milliseconds.
    [(status, sent, milliseconds)] = re.findall(
        rf'"GET {made["path"]} HTTP/1.1" (\d+) (\d+) (\d+)ms', stack.log("gunicorn.log")
    )
    with capsys.disabled():
        print(
            f"\n  [uploads] {received / MiB:.0f} MiB through nginx in {seconds:.1f}s "
            f"({received / MiB / seconds:.0f} MiB/s); gunicorn answered in {milliseconds} ms "
            f"with {sent} bytes; its RSS (KiB) before {before}, after {after}, growth {growth}"
        )
    assert (status, sent) == ("200", "0")
    assert received == LARGE_MIB * MiB
    assert digest.hexdigest() == made["sha256"]
    assert set(after) == set(before), "a gunicorn worker was replaced"
    assert max(growth.values()) < RSS_BOUND_KIB
