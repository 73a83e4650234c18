"""ops/private_media.py hands a private file over in one of three ways, with the same headers:
Django's FileResponse, nginx's X-Accel-Redirect, or a signed link to the bucket (against a
real S3 API: moto's server, harness/fixtures.py)."""

import secrets
from http import HTTPStatus

import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import FileField
from django.db.models.fields.files import FieldFile

from ops.private_media import DOWNLOAD_HEADERS, private_file_response

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def stored(content: bytes) -> FieldFile:
    name = default_storage.save(f"private/{secrets.token_hex(8)}", ContentFile(content))
    return FieldFile(None, FileField(), name)


def test_django_sends_the_file_itself_where_no_nginx_is_in_front():
    response = private_file_response(
        stored(SVG), filename="drawing.svg", content_type="image/svg+xml"
    )
    body = b"".join(response.streaming_content)
    response.file_to_stream.close()
    assert body == SVG
    assert response["Content-Disposition"] == 'attachment; filename="drawing.svg"'
    assert {name: response[name] for name in DOWNLOAD_HEADERS} == DOWNLOAD_HEADERS


def test_behind_nginx_django_names_the_file_and_sends_nothing(settings):
    settings.MEDIA_X_ACCEL_REDIRECT = True
    file = stored(b"hello")
    response = private_file_response(file, filename="a b.txt", content_type="text/plain")
    assert response["X-Accel-Redirect"] == f"/_private-media/{file.name}"
    assert response.content == b""
    assert response["Content-Disposition"] == 'inline; filename="a b.txt"'
    assert {name: response[name] for name in DOWNLOAD_HEADERS} == DOWNLOAD_HEADERS


def test_from_a_bucket_a_signed_link_with_the_same_disposition(s3_storage):
    file = stored(SVG)
    response = private_file_response(file, filename="drawing.svg", content_type="image/svg+xml")
    assert response.status_code == HTTPStatus.FOUND
    link = response["Location"]
    assert f"/{s3_storage}/{file.name}?" in link
    assert "X-Amz-Expires=60&" in link
    fetched = requests.get(link, timeout=10)
    assert fetched.content == SVG
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="drawing.svg"'
    assert fetched.headers["Content-Type"] == "image/svg+xml"
    assert requests.get(link.split("?")[0], timeout=10).status_code == HTTPStatus.FORBIDDEN
