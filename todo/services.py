"""Every change to lists and items goes through these functions (HackSoft's services): views
and the admin stay thin, and each rule lives in one place. Each validates with `full_clean()`
before it saves, so the database never holds what a form would have refused."""

import mimetypes
from pathlib import PurePath
from typing import Literal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User

from .models import Attachment, Item, TodoList

# Python's own table of types, the same on every machine (the system's mime.types differ).
_TYPES = mimetypes.MimeTypes()


def todo_list_create(*, owner: User, name: str) -> TodoList:
    todo_list = TodoList(owner=owner, name=name)
    todo_list.full_clean()
    todo_list.save()
    return todo_list


def todo_list_update(*, todo_list: TodoList, name: str) -> TodoList:
    todo_list.name = name
    todo_list.full_clean()
    todo_list.save(update_fields=["name"])
    return todo_list


def todo_list_delete(*, todo_list: TodoList) -> None:
    """Deletes the list and, by cascade, its items."""
    todo_list.delete()


def _lock(todo_list_id: int) -> None:
    """Serialises the changes to one list's items: two requests adding or moving items of the
    same list at once would otherwise read the same positions, and two edits could commit
    their `updated_at` out of order, which the list's cached rows are keyed by (selectors.
    lists_with_items_version). A row lock on PostgreSQL; SQLite ignores it, and needs none (it
    has one writer at a time)."""
    TodoList.objects.select_for_update().filter(pk=todo_list_id).exists()


@transaction.atomic
def item_create(*, todo_list: TodoList, title: str) -> Item:
    """A new item, in the "to do" state, at the end of the list."""
    _lock(todo_list.pk)
    last = todo_list.items.aggregate(last=Max("position"))["last"]
    item = Item(todo_list=todo_list, title=title, position=0 if last is None else last + 1)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def item_update(*, item: Item, title: str, state: str) -> Item:
    _lock(item.todo_list_id)
    item.title, item.state = title, state
    item.full_clean()
    item.save(update_fields=["title", "state", "updated_at"])
    return item


@transaction.atomic
def item_set_state(*, item: Item, state: str) -> Item:
    """Moves the item to another column of the board: start it, complete it, reopen it."""
    _lock(item.todo_list_id)
    item.state = state
    item.full_clean()
    item.save(update_fields=["state", "updated_at"])
    return item


@transaction.atomic
def item_move(*, item: Item, direction: Literal["up", "down"]) -> None:
    """Swaps the item with its neighbour above or below; at either end, nothing changes."""
    _lock(item.todo_list_id)
    item.refresh_from_db(fields=["position"])
    siblings = Item.objects.filter(todo_list_id=item.todo_list_id)
    if direction == "up":
        neighbour = siblings.filter(position__lt=item.position).order_by("-position").first()
    else:
        neighbour = siblings.filter(position__gt=item.position).order_by("position").first()
    if neighbour is None:
        return
    item.position, neighbour.position = neighbour.position, item.position
    # bulk_update() skips auto_now: set the version the list's cached rows are keyed by.
    item.updated_at = neighbour.updated_at = timezone.now()
    Item.objects.bulk_update([item, neighbour], ["position", "updated_at"])


def item_delete(*, item: Item) -> None:
    item.delete()


def attachment_create(*, item: Item, upload: UploadedFile) -> Attachment:
    """Stores the file under a random name and records the name it came with. Its type comes
    from that name's extension, not from the client's word for it."""
    original_name = PurePath(upload.name.replace("\\", "/")).name or "attachment"
    content_type, _ = _TYPES.guess_type(original_name, strict=False)
    attachment = Attachment(
        item=item,
        original_name=original_name,
        content_type=content_type or "application/octet-stream",
        size=upload.size,
    )
    attachment.file.save(original_name, upload, save=False)
    try:
        attachment.full_clean()
        attachment.save()
    except Exception:
        # Nothing refers to the file: it must not stay behind.
        attachment.file.delete(save=False)
        raise
    return attachment


def attachment_delete(*, attachment: Attachment) -> None:
    """The row now, the file once that is committed (models.delete_attachment_file)."""
    attachment.delete()
