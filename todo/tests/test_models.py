import pytest

from todo.models import Item, TodoList

from .factories import make_item, make_list

pytestmark = pytest.mark.django_db


def test_a_list_reads_as_its_name_and_links_to_its_page():
    """str() and get_absolute_url() give what templates and redirects need."""
    todo_list = make_list(name="Groceries")
    assert str(todo_list) == "Groceries"
    assert todo_list.get_absolute_url() == f"/todo/lists/{todo_list.pk}/"


def test_a_new_item_is_to_do():
    """Items start in the first column of the board."""
    assert make_item(title="Milk").state == Item.State.TODO
    assert str(Item(title="Milk")) == "Milk"


def test_items_come_in_position_order():
    """A list's items are ordered by position, whatever order they were saved in."""
    todo_list = make_list()
    first, second = make_item(todo_list=todo_list), make_item(todo_list=todo_list)
    Item.objects.filter(pk=first.pk).update(position=10)
    assert list(todo_list.items.all()) == [second, first]


def test_lists_come_in_name_order():
    """Lists are ordered by name, so that a user finds theirs."""
    b = make_list(name="B")
    a = make_list(owner=b.owner, name="A")
    assert list(TodoList.objects.filter(owner=b.owner)) == [a, b]


def test_deleting_a_list_deletes_its_items():
    """Items never outlive their list."""
    item = make_item()
    item.todo_list.delete()
    assert not Item.objects.filter(pk=item.pk).exists()


def test_the_states_are_to_do_doing_done_in_board_order():
    """The board's columns follow the order of the declared states."""
    assert [(state.value, state.label) for state in Item.State] == [
        ("todo", "To do"),
        ("doing", "Doing"),
        ("done", "Done"),
    ]
