"""Reads (HackSoft's selectors): each listing page's rows in a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import User

from .models import Item, TodoList


def todo_lists_of(*, owner: User) -> QuerySet[TodoList]:
    """The user's lists with their item counts, counted by the database in the same query."""
    return (
        TodoList.objects.filter(owner=owner)
        .annotate(
            item_count=Count("items"),
            done_count=Count("items", filter=Q(items__state=Item.State.DONE)),
        )
        # Meta.ordering does not apply to a grouped query: order explicitly (pagination
        # needs a stable order).
        .order_by("name", "pk")
    )


@dataclass(frozen=True)
class Column:
    state: Item.State
    items: list[Item]


def board_columns(*, items: list[Item]) -> list[Column]:
    """The items grouped by state, one column per state in the order the states are declared,
    each in list order. Empty columns are kept: they are where items can go."""
    return [
        Column(state=state, items=[item for item in items if item.state == state])
        for state in Item.State
    ]


def lists_with_items_version(*, owner: User) -> QuerySet[TodoList]:
    """The user's lists, each with its item count and its items' newest change: together a
    version of the items for caching what shows them, in the list's own query. Every change
    sets an item's `updated_at` (services.item_move too), which raises the newest, and a
    deletion lowers the count."""
    return TodoList.objects.filter(owner=owner).annotate(
        item_count=Count("items"), items_changed_at=Max("items__updated_at")
    )
