from django.urls import path

from . import views

app_name = "todo"

urlpatterns = [
    path("", views.list_index, name="lists"),
    path("lists/<int:pk>/", views.list_detail, name="list"),
    path("lists/<int:pk>/board/", views.list_board, name="board"),
    path("lists/<int:pk>/edit/", views.list_edit, name="list-edit"),
    path("lists/<int:pk>/delete/", views.list_delete, name="list-delete"),
    path("items/<int:pk>/edit/", views.item_edit, name="item-edit"),
    path("items/<int:pk>/state/", views.item_state, name="item-state"),
    path("items/<int:pk>/move/", views.item_move, name="item-move"),
    path("items/<int:pk>/delete/", views.item_delete, name="item-delete"),
    path("items/<int:pk>/attachments/", views.attachment_add, name="attachment-add"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment-delete"),
]
