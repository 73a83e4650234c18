import pytest

from todo.models import Item
from todo.selectors import board_columns, todo_lists_of

from .factories import make_item, make_list

pytestmark = pytest.mark.django_db


def test_todo_lists_of_returns_the_owners_lists_only(alice, bob):
    """Another user's lists never appear."""
    mine = make_list(owner=alice)
    make_list(owner=bob)
    assert list(todo_lists_of(owner=alice)) == [mine]


def test_todo_lists_of_counts_items_and_done_items(alice):
    """The counts shown on the home page come with the lists."""
    todo_list = make_list(owner=alice)
    make_item(todo_list=todo_list)
    make_item(todo_list=todo_list, state=Item.State.DONE)
    empty = make_list(owner=alice, name="Zzz")
    counted = {row.pk: (row.item_count, row.done_count) for row in todo_lists_of(owner=alice)}
    assert counted == {todo_list.pk: (2, 1), empty.pk: (0, 0)}


def test_board_columns_group_by_state_in_order_and_keep_empty_columns():
    """One column per state, To do first; items keep their order within a column."""
    todo_list = make_list()
    a = make_item(todo_list=todo_list, title="a")
    b = make_item(todo_list=todo_list, title="b", state=Item.State.DONE)
    c = make_item(todo_list=todo_list, title="c")
    columns = board_columns(items=list(todo_list.items.all()))
    assert [(column.state, column.items) for column in columns] == [
        (Item.State.TODO, [a, c]),
        (Item.State.DOING, []),
        (Item.State.DONE, [b]),
    ]
