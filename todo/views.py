"""Thin views: check who asks and what they sent, call a service, redirect or render.

Every list and item is fetched through its owner, so another user's id is a 404, exactly like
an id that does not exist: nothing says that it does. Every change is a POST, protected by
CSRF like every POST in Django.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from ops.private_media import private_file_response

from . import services
from .forms import (
    AttachmentForm,
    ItemCreateForm,
    ItemForm,
    ItemMoveForm,
    ItemStateForm,
    TodoListForm,
)
from .models import Attachment, Item, TodoList
from .selectors import board_columns, lists_with_items_version, todo_lists_of

LISTS_PER_PAGE = 20
ITEMS_PER_PAGE = 25
# A board shows more at once: its columns share the page.
BOARD_ITEMS_PER_PAGE = 60


def _own_list(request: HttpRequest, pk: int) -> TodoList:
    return get_object_or_404(TodoList, pk=pk, owner=request.user)


def _own_item(request: HttpRequest, pk: int) -> Item:
    return get_object_or_404(
        Item.objects.select_related("todo_list"), pk=pk, todo_list__owner=request.user
    )


class CountedPaginator(Paginator):
    """A Paginator told how many rows there are, by a view that has counted them already."""

    def __init__(self, rows: QuerySet, per_page: int, *, count: int):
        super().__init__(rows, per_page)
        self.count = count  # instead of the cached property's own COUNT query


def _page(request: HttpRequest, rows: QuerySet, per_page: int, count: int | None = None) -> Page:
    """The page named by ?page=: "last" and numbers past the end give the last page, anything
    else that is not a page number the first (a stale link still shows a page). The rows are
    fetched when the page is first iterated: not at all when the template's cache has them."""
    if count is None:
        paginator = Paginator(rows, per_page)
    else:
        paginator = CountedPaginator(rows, per_page, count=count)
    number = request.GET.get("page")
    return paginator.get_page(paginator.num_pages if number == "last" else number)


def _redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (its `next` field), if that is a page of this site."""
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect(default)


# --- Lists -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def list_index(request: HttpRequest) -> HttpResponse:
    """The home page: the user's lists, and a form to start one."""
    form = TodoListForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        todo_list = services.todo_list_create(owner=request.user, name=form.cleaned_data["name"])
        return redirect(todo_list)
    page = _page(request, todo_lists_of(owner=request.user), LISTS_PER_PAGE)
    return render(request, "todo/list_index.html", {"form": form, "page": page})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A list's items in order, and a form to add one at the end."""
    todo_list = get_object_or_404(lists_with_items_version(owner=request.user), pk=pk)
    form = ItemCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        services.item_create(todo_list=todo_list, title=form.cleaned_data["title"])
        return redirect(f"{todo_list.get_absolute_url()}?page=last")
    page = _page(request, todo_list.items.all(), ITEMS_PER_PAGE, count=todo_list.item_count)
    return render(
        request,
        "todo/list_detail.html",
        {
            "todo_list": todo_list,
            "form": form,
            "page": page,
            "states": Item.State,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def list_board(request: HttpRequest, pk: int) -> HttpResponse:
    """The list's items in three columns: to do, doing, done."""
    todo_list = get_object_or_404(lists_with_items_version(owner=request.user), pk=pk)
    page = _page(request, todo_list.items.all(), BOARD_ITEMS_PER_PAGE, count=todo_list.item_count)
    return render(
        request,
        "todo/board.html",
        {
            "todo_list": todo_list,
            "page": page,
            # A callable: the template calls it, and only where its cache has no copy.
            "columns": lambda: board_columns(items=list(page)),
            "states": Item.State,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def list_edit(request: HttpRequest, pk: int) -> HttpResponse:
    todo_list = _own_list(request, pk)
    form = TodoListForm(
        request.POST if request.method == "POST" else None, initial={"name": todo_list.name}
    )
    if form.is_valid():
        services.todo_list_update(todo_list=todo_list, name=form.cleaned_data["name"])
        return redirect(todo_list)
    return render(request, "todo/list_form.html", {"todo_list": todo_list, "form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes the list and its items."""
    todo_list = _own_list(request, pk)
    if request.method == "POST":
        services.todo_list_delete(todo_list=todo_list)
        return redirect("todo:lists")
    return render(request, "todo/list_confirm_delete.html", {"todo_list": todo_list})


# --- Items -------------------------------------------------------------------------------


def _item_page(
    request: HttpRequest, item: Item, *, form: ItemForm, attachment_form: AttachmentForm
) -> HttpResponse:
    return render(
        request,
        "todo/item_form.html",
        {
            "item": item,
            "form": form,
            "attachment_form": attachment_form,
            "attachments": item.attachments.all(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The item's title and state, and its attachments."""
    item = _own_item(request, pk)
    form = ItemForm(
        request.POST if request.method == "POST" else None,
        initial={"title": item.title, "state": item.state},
    )
    if form.is_valid():
        services.item_update(item=item, **form.cleaned_data)
        return redirect(item.todo_list)
    return _item_page(request, item, form=form, attachment_form=AttachmentForm())


@login_required
@require_POST
def item_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Start, complete or reopen an item."""
    item = _own_item(request, pk)
    form = ItemStateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown state.")
    services.item_set_state(item=item, state=form.cleaned_data["state"])
    return _redirect_back(request, item.todo_list.get_absolute_url())


@login_required
@require_POST
def item_move(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_item(request, pk)
    form = ItemMoveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown direction.")
    services.item_move(item=item, direction=form.cleaned_data["direction"])
    return _redirect_back(request, item.todo_list.get_absolute_url())


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def item_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    item = _own_item(request, pk)
    if request.method == "POST":
        services.item_delete(item=item)
        return redirect(item.todo_list)
    return render(request, "todo/item_confirm_delete.html", {"item": item})


# --- Attachments -------------------------------------------------------------------------


@login_required
@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_item(request, pk)
    attachment_form = AttachmentForm(request.POST, request.FILES)
    if attachment_form.is_valid():
        services.attachment_create(item=item, upload=attachment_form.cleaned_data["file"])
        return redirect("todo:item-edit", pk=item.pk)
    form = ItemForm(initial={"title": item.title, "state": item.state})
    return _item_page(request, item, form=form, attachment_form=attachment_form)


@login_required
@require_http_methods(["GET", "HEAD"])
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, to its owner only: another user's attachment is a 404 like a missing one.
    nginx (or Django, or the bucket) sends the bytes: ops/private_media.py."""
    attachment = get_object_or_404(Attachment, pk=pk, item__todo_list__owner=request.user)
    return private_file_response(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(
        Attachment.objects.select_related("item"), pk=pk, item__todo_list__owner=request.user
    )
    services.attachment_delete(attachment=attachment)
    return redirect("todo:item-edit", pk=attachment.item.pk)
