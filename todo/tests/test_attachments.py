"""Attachments: stored under random names, downloaded by their owner alone, with headers that
keep a file from ever running as a page of the site, however it is served."""

import re
from http import HTTPStatus
from pathlib import Path

import pytest
import requests
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import make_user
from ops.private_media import DOWNLOAD_POLICY
from todo import services
from todo.models import Attachment

from .factories import make_item, make_list

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def upload(client, item, name: str, content: bytes):
    return client.post(
        reverse("todo:attachment-add", args=[item.pk]),
        {"file": SimpleUploadedFile(name, content, content_type="image/png")},
    )


def files_in(media_root) -> list[Path]:
    return [path for path in Path(media_root).rglob("*") if path.is_file()]


@pytest.fixture
def item(alice):
    return make_item(todo_list=make_list(owner=alice))


def download(client, url: str):
    """The response and its body, read to the end (which closes the file it streams)."""
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def attach(item, name: str = "photo.png", content: bytes = PNG) -> Attachment:
    return services.attachment_create(item=item, upload=SimpleUploadedFile(name, content))


# --- Uploading -------------------------------------------------------------------------


def test_an_upload_is_stored_under_a_random_name_and_listed_on_the_item(alice_client, item):
    response = upload(alice_client, item, "../../etc/Holiday photo.png", PNG)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("todo:item-edit", args=[item.pk])
    attachment = Attachment.objects.get()
    assert re.fullmatch(r"attachments/[0-9a-f]{32}", attachment.file.name)
    # The uploader's name, without its folders, for the download; the type from its
    # extension, whatever the client said.
    assert attachment.original_name == "Holiday photo.png"
    assert (attachment.content_type, attachment.size) == ("image/png", len(PNG))
    assert Path(attachment.file.path).read_bytes() == PNG
    page = alice_client.get(reverse("todo:item-edit", args=[item.pk])).text
    assert "Holiday photo.png" in page
    assert f'href="{attachment.get_absolute_url()}"' in page
    assert 'enctype="multipart/form-data"' in page


def test_the_type_comes_from_the_name_not_from_the_client(alice_client, item):
    """The client said image/png (upload() always does): an .html file stays text/html, and
    is therefore downloaded, never shown."""
    upload(alice_client, item, "page.html", HTML)
    assert Attachment.objects.get().content_type == "text/html"


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(alice_client, item, settings):
    settings.MAX_UPLOAD_MB = 1
    response = upload(alice_client, item, "big.bin", b"x" * (1024 * 1024 + 1))
    assert response.status_code == HTTPStatus.OK
    assert "The file is larger than 1 MB." in response.text
    assert not Attachment.objects.exists()
    assert files_in(settings.MEDIA_ROOT) == []


def test_the_form_says_the_limit(alice_client, item, settings):
    settings.MAX_UPLOAD_MB = 7
    page = alice_client.get(reverse("todo:item-edit", args=[item.pk])).text
    assert "Up to 7 MB." in page


def test_an_empty_upload_is_refused(alice_client, item):
    response = upload(alice_client, item, "empty.txt", b"")
    assert "The submitted file is empty." in response.text
    assert not Attachment.objects.exists()


def test_nobody_attaches_to_another_users_item(client, bob, item, settings):
    client.force_login(bob)
    assert upload(client, item, "x.png", PNG).status_code == HTTPStatus.NOT_FOUND
    assert not Attachment.objects.exists()
    assert files_in(settings.MEDIA_ROOT) == []


# --- Downloading -------------------------------------------------------------------------


def test_the_owner_downloads_a_picture_shown_inline(alice_client, item):
    attachment = attach(item, "Holiday photo.png")
    response, body = download(alice_client, attachment.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    assert body == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="Holiday photo.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("page.html", HTML, "text/html"),
        ("drawing.svg", SVG, "image/svg+xml"),
        ("data.xml", b"<x/>", "text/xml"),
        ("no-extension", b"MZ", "application/octet-stream"),
    ],
)
def test_what_a_browser_could_run_is_always_a_download(
    alice_client, item, name, content, content_type
):
    response, body = download(alice_client, attach(item, name, content).get_absolute_url())
    assert body == content
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert "'none'" in DOWNLOAD_POLICY
    assert "sandbox" in DOWNLOAD_POLICY


def test_a_name_outside_ascii_or_with_quotes_is_encoded_for_the_header(alice_client, item):
    """RFC 6266 / 5987: the header never carries the raw name, which could end it early."""
    response, _ = download(alice_client, attach(item, 'Ré"sumé\r\n.txt', b"hi").get_absolute_url())
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename*=utf-8''R%C3%A9%22sum%C3%A9")
    assert "\r" not in disposition
    assert "\n" not in disposition


def test_another_users_attachment_is_not_found(client, bob, item):
    """Exactly like an id that does not exist: nothing says that it does."""
    attachment = attach(item)
    client.force_login(bob)
    assert client.get(attachment.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND
    missing = reverse("todo:attachment", args=[attachment.pk + 1])
    assert client.get(missing).status_code == HTTPStatus.NOT_FOUND


def test_visitors_are_sent_to_sign_in(client, item):
    url = attach(item).get_absolute_url()
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_no_url_serves_the_media_folder(alice_client, item):
    """MEDIA_URL is served by nobody: the file's own path is a 404."""
    attachment = attach(item)
    assert alice_client.get(f"/media/{attachment.file.name}").status_code == 404
    assert alice_client.get(f"/_private-media/{attachment.file.name}").status_code == 404


def test_behind_nginx_the_view_hands_the_file_over_with_the_same_headers(
    alice_client, item, settings
):
    """X-Accel-Redirect to nginx's internal location: no body from Django; nginx sends the
    file and sets the security headers itself (docker/nginx/private-media.conf)."""
    settings.MEDIA_X_ACCEL_REDIRECT = True
    attachment = attach(item, "page.html", HTML)
    response = alice_client.get(attachment.get_absolute_url())
    assert response["X-Accel-Redirect"] == f"/_private-media/{attachment.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "text/html"
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"


def test_nginx_sets_the_same_security_headers_as_django():
    """nginx drops Django's own headers on an X-Accel-Redirect: its copy must match."""
    conf = (Path(__file__).resolve().parents[2] / "docker/nginx/private-media.conf").read_text()
    assert f'add_header Content-Security-Policy "{DOWNLOAD_POLICY}" always;' in conf
    assert "add_header X-Content-Type-Options nosniff always;" in conf


# --- Deleting ----------------------------------------------------------------------------


def test_deleting_an_attachment_removes_its_file_once_committed(
    alice_client, item, django_capture_on_commit_callbacks
):
    attachment = attach(item)
    path = Path(attachment.file.path)
    url = reverse("todo:attachment-delete", args=[attachment.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post(url)
    assert response["Location"] == reverse("todo:item-edit", args=[item.pk])
    assert not Attachment.objects.exists()
    assert path.exists(), "removed before the deletion committed"
    for callback in callbacks:
        callback()
    assert not path.exists()


def test_deleting_the_item_or_the_list_removes_the_files(
    alice_client, item, django_capture_on_commit_callbacks
):
    first, second = attach(item), attach(make_item(todo_list=item.todo_list))
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("todo:item-delete", args=[item.pk]))
    assert not Path(first.file.path).exists()
    assert Path(second.file.path).exists()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("todo:list-delete", args=[item.todo_list.pk]))
    assert not Path(second.file.path).exists()


def test_nobody_deletes_another_users_attachment(client, bob, item):
    attachment = attach(item)
    client.force_login(bob)
    url = reverse("todo:attachment-delete", args=[attachment.pk])
    assert client.post(url).status_code == HTTPStatus.NOT_FOUND
    assert Path(attachment.file.path).exists()


def test_a_row_that_cannot_be_saved_leaves_no_file(item, settings, monkeypatch):
    def refuse(self, **kwargs):
        raise ValidationError("refused")

    monkeypatch.setattr(Attachment, "full_clean", refuse)
    with pytest.raises(ValidationError):
        services.attachment_create(item=item, upload=SimpleUploadedFile("x.txt", b"data"))
    assert files_in(settings.MEDIA_ROOT) == []


# --- In a bucket (DJANGO_MEDIA_STORAGE=s3) -------------------------------------------------


def test_in_a_bucket_the_owner_is_sent_to_a_short_lived_signed_link(
    alice_client, item, s3_storage, settings
):
    response = upload(alice_client, item, "page.html", HTML)
    assert response.status_code == HTTPStatus.FOUND
    attachment = Attachment.objects.get()
    assert files_in(settings.MEDIA_ROOT) == []  # in the bucket, not on disk

    redirect = alice_client.get(attachment.get_absolute_url())
    assert redirect.status_code == HTTPStatus.FOUND
    link = redirect["Location"]
    assert f"/{s3_storage}/{attachment.file.name}?" in link
    assert "X-Amz-Expires=60&" in link  # seconds, DJANGO_S3_URL_SECONDS
    # The bucket answers the signed link alone, with the download's type and disposition.
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == HTTPStatus.OK
    assert fetched.content == HTML
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="page.html"'
    assert fetched.headers["Content-Type"] == "text/html"
    # Unsigned, the bucket refuses.
    assert requests.get(link.split("?")[0], timeout=10).status_code == HTTPStatus.FORBIDDEN

    bob = make_user("bob-s3")
    alice_client.force_login(bob)
    assert alice_client.get(attachment.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND


def test_in_a_bucket_deleting_removes_the_object(
    item, s3_storage, django_capture_on_commit_callbacks
):
    attachment = attach(item)
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_delete(attachment=attachment)
    assert not storage.exists(name)
