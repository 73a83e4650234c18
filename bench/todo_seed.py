"""The signed-in scenario's data, created with the app's own services (run in the stack's
environment by `manage.py shell`, see bench/__main__.py)."""

import itertools
import os

VERBS = ("Book", "Call", "Pack", "Label", "Cancel", "Order", "Clean", "Return", "Pay", "Check")
THINGS = (
    "the removal van",
    "the electricity supplier",
    "the kitchen boxes",
    "the spare keys",
    "the broadband contract",
    "a parking permit",
    "the old flat",
    "the library books",
    "the council tax",
    "the meter readings",
)


def seed(*, username: str, password: str, items: int) -> int:
    """A user with one list of `items` items in every state; returns the list's id."""
    from accounts.models import User
    from todo import services
    from todo.models import Item

    user = User.objects.create_user(username, password=password)
    todo_list = services.todo_list_create(owner=user, name="Moving house")
    titles = itertools.cycle(f"{verb} {thing}" for verb in VERBS for thing in THINGS)
    states = itertools.cycle((Item.State.TODO, Item.State.TODO, Item.State.DOING, Item.State.DONE))
    for _, title, state in zip(range(items), titles, states, strict=False):
        item = services.item_create(todo_list=todo_list, title=title)
        if state != Item.State.TODO:
            services.item_set_state(item=item, state=state)
    return todo_list.pk


def main() -> None:
    """For `manage.py shell -c`: the details come from the environment (no password in a
    command line); prints "list <id>"."""
    list_id = seed(
        username=os.environ["BENCH_USERNAME"],
        password=os.environ["BENCH_PASSWORD"],
        items=int(os.environ["BENCH_ITEMS"]),
    )
    print(f"list {list_id}")
