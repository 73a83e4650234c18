"""Attach a file of HARNESS_MEGABYTES MiB of random bytes to the item HARNESS_ITEM, written
straight into the storage (larger than any upload may be: for the download tests). Prints
{"path": its download path, "name": its name in the storage, "sha256": its digest}."""

import hashlib
import json
import os
import uuid

from django.core.files.storage import default_storage

from todo.models import Attachment

megabytes = int(os.environ["HARNESS_MEGABYTES"])
name = f"attachments/{uuid.uuid4().hex}"
digest = hashlib.sha256()
chunk = os.urandom(1024 * 1024)
path = default_storage.path(name)
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "wb") as file:
    for _ in range(megabytes):
        file.write(chunk)
        digest.update(chunk)
attachment = Attachment.objects.create(
    item_id=int(os.environ["HARNESS_ITEM"]),
    file=name,
    original_name="large.bin",
    content_type="application/octet-stream",
    size=megabytes * 1024 * 1024,
)
print(
    json.dumps({"path": attachment.get_absolute_url(), "name": name, "sha256": digest.hexdigest()})
)
