from django.conf import settings
from django.db import models
from django.urls import reverse


class TodoList(models.Model):
    """A named list of items, owned by one user; nobody else sees it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="todo_lists"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "pk")
        indexes = (models.Index(fields=("owner", "name")),)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("todo:list", kwargs={"pk": self.pk})


class Item(models.Model):
    """One thing to do. `position` orders the items of a list; services keep it unique."""

    class State(models.TextChoices):
        TODO = "todo", "To do"
        DOING = "doing", "Doing"
        DONE = "done", "Done"

    todo_list = models.ForeignKey(TodoList, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=5, choices=State, default=State.TODO)
    position = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("position", "pk")
        indexes = (models.Index(fields=("todo_list", "position")),)

    def __str__(self) -> str:
        return self.title
