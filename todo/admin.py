from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from .models import Attachment, Item, TodoList


class ItemInline(admin.TabularInline):
    model = Item
    fields = ("position", "title", "state")
    ordering = ("position", "pk")
    extra = 0


@admin.register(TodoList)
class TodoListAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "item_count", "created_at")
    list_filter = ("created_at",)
    list_select_related = ("owner",)
    search_fields = ("name", "owner__username", "owner__email")
    autocomplete_fields = ("owner",)
    date_hierarchy = "created_at"
    inlines = (ItemInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TodoList]:
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description="Items", ordering="item_count")
    def item_count(self, todo_list: TodoList) -> int:
        return todo_list.item_count


class AttachmentInline(admin.TabularInline):
    """What is attached, not the files: those are their owner's alone (views.py)."""

    model = Attachment
    fields = ("original_name", "content_type", "size", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("title", "todo_list", "owner", "state", "position", "updated_at")
    list_filter = ("state", "updated_at")
    list_select_related = ("todo_list__owner",)
    search_fields = ("title", "todo_list__name", "todo_list__owner__username")
    autocomplete_fields = ("todo_list",)
    inlines = (AttachmentInline,)

    @admin.display(description="Owner", ordering="todo_list__owner__username")
    def owner(self, item: Item) -> str:
        return item.todo_list.owner.get_username()
