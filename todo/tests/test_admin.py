from http import HTTPStatus

import pytest
from django.urls import reverse

from todo.models import Item

from .factories import make_item, make_items, make_list

pytestmark = pytest.mark.django_db


def test_the_lists_changelist_shows_owner_and_item_count(admin_client, alice):
    """list_display has the owner and the annotated number of items."""
    make_items(make_list(owner=alice, name="Groceries"), 3)
    response = admin_client.get(reverse("admin:todo_todolist_changelist"))
    assert response.status_code == HTTPStatus.OK
    row = response.context["cl"].result_list.get()
    assert (row.name, row.owner, row.item_count) == ("Groceries", alice, 3)


def test_lists_are_searchable_by_owner(admin_client, alice, bob):
    """search_fields reach the owner's username."""
    make_list(owner=alice, name="Alice's")
    make_list(owner=bob, name="Bob's")
    response = admin_client.get(reverse("admin:todo_todolist_changelist"), {"q": "bob"})
    assert [row.name for row in response.context["cl"].result_list] == ["Bob's"]


def test_a_lists_change_page_has_its_items_inline(admin_client):
    """The list's items are edited on the list's page, in order."""
    todo_list = make_list()
    make_item(todo_list=todo_list, title="first")
    make_item(todo_list=todo_list, title="second")
    response = admin_client.get(reverse("admin:todo_todolist_change", args=[todo_list.pk]))
    assert response.status_code == HTTPStatus.OK
    (inline,) = response.context["inline_admin_formsets"]
    assert [form.original.title for form in inline if form.original] == ["first", "second"]


def test_the_items_changelist_filters_by_state(admin_client):
    """list_filter on state shows only the chosen column of the board."""
    todo_list = make_list()
    make_item(todo_list=todo_list, title="open")
    make_item(todo_list=todo_list, title="finished", state=Item.State.DONE)
    response = admin_client.get(reverse("admin:todo_item_changelist"), {"state__exact": "done"})
    assert response.status_code == HTTPStatus.OK
    assert [item.title for item in response.context["cl"].result_list] == ["finished"]
    assert todo_list.owner.username in response.text
