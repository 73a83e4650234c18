"""Forms validate what a request carries; services (services.py) make the change."""

from django import forms

from .models import Item, TodoList


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
