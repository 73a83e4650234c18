"""Handing a private uploaded file to the one who may have it, once a view has checked that.

One function for every way the files are stored and served (config/settings.py, Uploaded
files): nginx's X-Accel-Redirect to its `internal` location, so that nginx streams the file
and no gunicorn worker is held for it; Django's FileResponse where no nginx is in front; a
short-lived signed URL of the bucket with S3. The headers are the same each way.
"""

from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

# Types a browser shows without running anything: these may open in the browser. Any other
# (HTML, SVG, XML, PDF, scripts, unknown) is always a download, never rendered on our origin.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"})
# A downloaded file is no page: it loads nothing, runs nothing, and cannot be framed.
DOWNLOAD_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"
# nginx sets the same (docker/nginx/private-media.conf): a response that is an
# X-Accel-Redirect keeps only a few of Django's headers.
DOWNLOAD_HEADERS = {
    "Content-Security-Policy": DOWNLOAD_POLICY,
    "X-Content-Type-Options": "nosniff",
}


def private_file_response(file: FieldFile, *, filename: str, content_type: str) -> HttpResponse:
    """The response that delivers `file` under its original `filename`: inline for the
    harmless types of INLINE_TYPES, as an attachment for everything else."""
    as_attachment = content_type not in INLINE_TYPES
    disposition = content_disposition_header(as_attachment, filename)
    if settings.MEDIA_STORAGE == "s3":
        # The bucket's own answer carries these two, as the signature fixes them.
        return HttpResponseRedirect(
            file.storage.url(
                file.name,
                parameters={
                    "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type,
                },
            )
        )
    if settings.MEDIA_X_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = quote(f"{settings.MEDIA_X_ACCEL_PREFIX}{file.name}")
    else:
        response = FileResponse(file.open("rb"), content_type=content_type)
    response["Content-Disposition"] = disposition
    for name, value in DOWNLOAD_HEADERS.items():
        response[name] = value
    return response
