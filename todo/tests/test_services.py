import pytest
from django.core.exceptions import ValidationError

from todo import services
from todo.models import Item, TodoList

from .factories import make_item, make_list

pytestmark = pytest.mark.django_db


def positions(todo_list: TodoList) -> list[tuple[str, int]]:
    return list(todo_list.items.values_list("title", "position"))


def test_todo_list_create_saves_a_list_for_its_owner(alice):
    """The list belongs to the user who created it."""
    todo_list = services.todo_list_create(owner=alice, name="Groceries")
    assert TodoList.objects.get(pk=todo_list.pk).owner == alice


def test_todo_list_create_validates_before_saving(alice):
    """full_clean() runs first: an invalid list raises and nothing is saved."""
    with pytest.raises(ValidationError) as error:
        services.todo_list_create(owner=alice, name="")
    assert "name" in error.value.message_dict
    assert not TodoList.objects.exists()


def test_todo_list_update_renames(alice):
    """A rename is saved, and validated like a new name."""
    todo_list = make_list(owner=alice, name="Old")
    services.todo_list_update(todo_list=todo_list, name="New")
    assert TodoList.objects.get(pk=todo_list.pk).name == "New"
    with pytest.raises(ValidationError):
        services.todo_list_update(todo_list=todo_list, name="x" * 101)
    assert TodoList.objects.get(pk=todo_list.pk).name == "New"


def test_todo_list_delete_removes_the_list_and_its_items():
    """Deleting a list takes its items with it."""
    item = make_item()
    services.todo_list_delete(todo_list=item.todo_list)
    assert not TodoList.objects.exists()
    assert not Item.objects.exists()


def test_item_create_appends_to_the_end():
    """Each new item goes after the last one."""
    todo_list = make_list()
    for title in ("a", "b", "c"):
        services.item_create(todo_list=todo_list, title=title)
    assert positions(todo_list) == [("a", 0), ("b", 1), ("c", 2)]


def test_item_create_after_a_deletion_still_appends():
    """Gaps left by deleted items do not make a new item jump the queue."""
    todo_list = make_list()
    a = services.item_create(todo_list=todo_list, title="a")
    services.item_create(todo_list=todo_list, title="b")
    services.item_delete(item=a)
    services.item_create(todo_list=todo_list, title="c")
    assert positions(todo_list) == [("b", 1), ("c", 2)]


def test_item_create_validates_before_saving():
    """A blank title raises and leaves the list empty."""
    todo_list = make_list()
    with pytest.raises(ValidationError):
        services.item_create(todo_list=todo_list, title="")
    assert not todo_list.items.exists()


def test_item_update_changes_title_and_state():
    """Both edited fields are saved."""
    item = make_item(title="Milk")
    services.item_update(item=item, title="Oat milk", state=Item.State.DOING)
    item.refresh_from_db()
    assert (item.title, item.state) == ("Oat milk", Item.State.DOING)


def test_item_set_state_moves_an_item_across_the_board():
    """Complete, then reopen."""
    item = make_item()
    services.item_set_state(item=item, state=Item.State.DONE)
    assert Item.objects.get(pk=item.pk).state == Item.State.DONE
    services.item_set_state(item=item, state=Item.State.TODO)
    assert Item.objects.get(pk=item.pk).state == Item.State.TODO


def test_item_set_state_refuses_an_unknown_state():
    """The choices are enforced by full_clean(), not only by forms."""
    item = make_item()
    with pytest.raises(ValidationError):
        services.item_set_state(item=item, state="someday")
    assert Item.objects.get(pk=item.pk).state == Item.State.TODO


def test_item_move_swaps_with_the_neighbour():
    """Up and down swap positions with the item above or below."""
    todo_list = make_list()
    a, _, c = (make_item(todo_list=todo_list, title=title) for title in "abc")
    services.item_move(item=c, direction="up")
    assert [item.title for item in todo_list.items.all()] == ["a", "c", "b"]
    services.item_move(item=a, direction="down")
    assert [item.title for item in todo_list.items.all()] == ["c", "a", "b"]


def test_item_move_past_either_end_changes_nothing():
    """The first item cannot go up, nor the last one down."""
    todo_list = make_list()
    a, b = make_item(todo_list=todo_list, title="a"), make_item(todo_list=todo_list, title="b")
    services.item_move(item=a, direction="up")
    services.item_move(item=b, direction="down")
    assert positions(todo_list) == [("a", 0), ("b", 1)]


def test_item_move_reads_the_current_position_not_a_stale_one():
    """An item object loaded before another move still moves from where it is now."""
    todo_list = make_list()
    *_, c = (make_item(todo_list=todo_list, title=title) for title in "abc")
    stale_c = Item.objects.get(pk=c.pk)
    services.item_move(item=c, direction="up")  # a c b
    services.item_move(item=stale_c, direction="up")  # c a b
    assert [item.title for item in todo_list.items.all()] == ["c", "a", "b"]


def test_item_move_stays_within_the_list():
    """Another list's items are never neighbours."""
    mine, other = make_list(), make_list()
    make_item(todo_list=other, title="other")
    item = make_item(todo_list=mine, title="mine")
    services.item_move(item=item, direction="up")
    assert positions(mine) == [("mine", 0)]
    assert positions(other) == [("other", 0)]
