from todo.forms import ItemCreateForm, ItemForm, ItemMoveForm, ItemStateForm, TodoListForm


def test_a_list_needs_a_name():
    """An empty name is refused, on the name field."""
    form = TodoListForm(data={"name": ""})
    assert not form.is_valid()
    assert form.errors == {"name": ["This field is required."]}


def test_a_list_name_is_at_most_100_characters():
    """The model's max_length reaches the form."""
    assert not TodoListForm(data={"name": "x" * 101}).is_valid()
    assert TodoListForm(data={"name": "x" * 100}).is_valid()


def test_a_new_item_needs_a_title():
    """An empty title is refused, on the title field."""
    form = ItemCreateForm(data={"title": ""})
    assert not form.is_valid()
    assert list(form.errors) == ["title"]


def test_an_item_edit_takes_a_known_state_only():
    """States outside the choices are refused."""
    assert ItemForm(data={"title": "Milk", "state": "done"}).is_valid()
    form = ItemForm(data={"title": "Milk", "state": "someday"})
    assert not form.is_valid()
    assert list(form.errors) == ["state"]


def test_the_state_and_move_forms_take_their_choices_only():
    """The one-button forms accept exactly what their buttons send."""
    assert ItemStateForm(data={"state": "doing"}).is_valid()
    assert not ItemStateForm(data={"state": "DONE"}).is_valid()
    assert ItemMoveForm(data={"direction": "up"}).is_valid()
    assert ItemMoveForm(data={"direction": "down"}).is_valid()
    assert not ItemMoveForm(data={"direction": "sideways"}).is_valid()
