from django.apps import AppConfig


class TodoConfig(AppConfig):
    """The example app: a to-do board. `todo/README.md` says how to remove it."""

    name = "todo"
    verbose_name = "To-do"
