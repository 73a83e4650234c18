"""The example app's background work: a digest of each user's open items, by mail. The
pattern: a management command that a scheduler runs (cron, a CI schedule) enqueues one small
task per user, and the worker sends them, one failure at a time."""

from django.core import mail
from django.db.models import Exists, OuterRef
from django.tasks import task
from django.template.loader import render_to_string

from accounts.models import User

from .models import Item


def open_items_of(user: User) -> list[Item]:
    return list(
        Item.objects.filter(todo_list__owner=user)
        .exclude(state=Item.State.DONE)
        .select_related("todo_list")
        .order_by("todo_list__name", "todo_list_id", "position")
    )


def users_with_open_items():
    """Active users with an address and something left to do."""
    open_item = Item.objects.filter(todo_list__owner=OuterRef("pk")).exclude(state=Item.State.DONE)
    return User.objects.filter(Exists(open_item), is_active=True).exclude(email="")


@task
def send_digest(*, user_id: int) -> int:
    """Mails the user the items still to do or in progress; returns how many it listed. The
    user is read here, when the task runs: what they did in between counts."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    items = open_items_of(user) if user else []
    if not items:
        return 0
    body = render_to_string("todo/digest_email.txt", {"user": user, "items": items})
    mail.EmailMessage(f"Your to-do lists: {len(items)} open", body, to=[user.email]).send()
    return len(items)
