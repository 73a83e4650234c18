import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse


class TodoList(models.Model):
    """A named list of items, owned by one user; nobody else sees it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="todo_lists"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "pk")
        indexes = (models.Index(fields=("owner", "name")),)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("todo:list", kwargs={"pk": self.pk})


class Item(models.Model):
    """One thing to do. `position` orders the items of a list; services keep it unique."""

    class State(models.TextChoices):
        TODO = "todo", "To do"
        DOING = "doing", "Doing"
        DONE = "done", "Done"

    todo_list = models.ForeignKey(TodoList, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=5, choices=State, default=State.TODO)
    position = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("position", "pk")
        indexes = (models.Index(fields=("todo_list", "position")),)

    def __str__(self) -> str:
        return self.title


def attachment_path(attachment: "Attachment", filename: str) -> str:
    """A random name on disk: never the uploader's (it could collide, traverse or mislead);
    theirs is kept in the row, for the download."""
    return f"attachments/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on an item, private to the list's owner (views.attachment_download)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    # The name the file had on the uploader's machine, for Content-Disposition.
    original_name = models.CharField(max_length=255)
    # From the name's extension, never from what the client claimed (ops/private_media.py).
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("uploaded_at", "pk")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("todo:attachment", kwargs={"pk": self.pk})


@receiver(post_delete, sender=Attachment)
def delete_attachment_file(sender, instance: Attachment, **kwargs) -> None:
    """The file goes with its row, also when an item or a list takes it along (cascade), and
    only once the deletion is committed: a rollback keeps both."""
    storage, name = instance.file.storage, instance.file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name), robust=True)
