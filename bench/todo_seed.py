"""The signed-in to-do scenarios' data, made with the app's own services: a user with one
list of HARNESS_ITEMS items in every state. Run by `manage.py shell` in the stack's
environment (bench/scenarios.py); prints {"list": id, "first_item": title,
"first_item_id": id}."""

import itertools
import json
import os

from accounts.models import User
from todo import services
from todo.models import Item

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

user = User.objects.create_user(
    os.environ["HARNESS_USERNAME"], password=os.environ["HARNESS_PASSWORD"]
)
todo_list = services.todo_list_create(owner=user, name="Moving house")
titles = itertools.cycle(f"{verb} {thing}" for verb in VERBS for thing in THINGS)
states = itertools.cycle((Item.State.TODO, Item.State.TODO, Item.State.DOING, Item.State.DONE))
first = first_id = None
for _, title, state in zip(range(int(os.environ["HARNESS_ITEMS"])), titles, states, strict=False):
    item = services.item_create(todo_list=todo_list, title=title)
    first, first_id = first or title, first_id or item.pk
    if state != Item.State.TODO:
        services.item_set_state(item=item, state=state)
print(json.dumps({"list": todo_list.pk, "first_item": first, "first_item_id": first_id}))
