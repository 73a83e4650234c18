"""Test data in plain functions: each makes one valid object with whatever the test names."""

from accounts.models import User
from accounts.tests.factories import make_user
from todo import services
from todo.models import Item, TodoList


def make_list(*, owner: User | None = None, name: str = "Groceries") -> TodoList:
    return services.todo_list_create(owner=owner or make_user(), name=name)


def make_item(
    *, todo_list: TodoList | None = None, title: str = "Milk", state: str = Item.State.TODO
) -> Item:
    item = services.item_create(todo_list=todo_list or make_list(), title=title)
    if state != item.state:
        services.item_set_state(item=item, state=state)
    return item


def make_items(todo_list: TodoList, number: int) -> list[Item]:
    """Many items at once, in every state, positioned as the services would."""
    states = list(Item.State)
    return Item.objects.bulk_create(
        Item(todo_list=todo_list, title=f"Item {i}", state=states[i % 3], position=i)
        for i in range(number)
    )
