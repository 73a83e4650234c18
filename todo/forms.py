"""Forms validate what a request carries; services (services.py) make the change."""

from django import forms
from django.conf import settings

from .models import Attachment, Item, TodoList


class TodoListForm(forms.ModelForm):
    class Meta:
        model = TodoList
        fields = ("name",)


class ItemCreateForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = ("title",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].label = "New item"


class ItemForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = ("title", "state")


class ItemStateForm(forms.Form):
    state = forms.ChoiceField(choices=Item.State.choices)


class ItemMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class AttachmentForm(forms.Form):
    file = forms.FileField(max_length=Attachment._meta.get_field("original_name").max_length)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.MAX_UPLOAD_MB
        self.fields["file"].help_text = f"Up to {limit} MB. Only you can download it."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # nginx refuses a body a little larger than this already (413); this is the limit
        # itself, and the one that holds where no nginx is in front.
        if upload.size > settings.MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                "The file is larger than %(limit)d MB.", params={"limit": settings.MAX_UPLOAD_MB}
            )
        return upload
