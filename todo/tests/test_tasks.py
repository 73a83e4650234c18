"""The digest of open items: which users get one, and what it says. Tasks run at once here
(DJANGO_TASKS_BACKEND=immediate)."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.tests.factories import make_user
from todo.models import Item
from todo.tasks import send_digest

from .factories import make_item, make_list

pytestmark = pytest.mark.django_db


def test_the_digest_lists_open_items_by_list_and_leaves_done_ones_out():
    ada = make_user("ada", email="ada@example.com")
    groceries = make_list(owner=ada, name="Groceries")
    make_item(todo_list=groceries, title="Milk")
    make_item(todo_list=groceries, title="Bread", state=Item.State.DOING)
    make_item(todo_list=groceries, title="Eggs", state=Item.State.DONE)

    assert send_digest.enqueue(user_id=ada.pk).return_value == 2
    [digest] = mail.outbox
    assert digest.to == ["ada@example.com"]
    assert digest.subject == "Your to-do lists: 2 open"
    assert "Groceries\n  - Milk (to do)\n  - Bread (doing)\n" in digest.body
    assert "Eggs" not in digest.body


def test_the_command_enqueues_one_digest_per_user_with_open_items_and_an_address():
    ada = make_user("ada", email="ada@example.com")
    make_item(todo_list=make_list(owner=ada))
    no_address = make_user("bob")
    make_item(todo_list=make_list(owner=no_address))
    all_done = make_user("cy", email="cy@example.com")
    make_item(todo_list=make_list(owner=all_done), state=Item.State.DONE)

    out = StringIO()
    call_command("send_todo_digests", stdout=out)
    assert out.getvalue().strip() == "1 digests enqueued"
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_a_user_with_nothing_open_by_the_time_it_runs_gets_no_mail():
    ada = make_user("ada", email="ada@example.com")
    item = make_item(todo_list=make_list(owner=ada))
    item.delete()
    assert send_digest.enqueue(user_id=ada.pk).return_value == 0
    assert mail.outbox == []
