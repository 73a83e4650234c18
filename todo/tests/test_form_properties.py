"""Properties of the to-do forms over any text (hypothesis): a value either validates to a
clean value or gets an error on its own field, never an exception; what validates is saved
and read back unchanged."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from todo import services
from todo.forms import ItemCreateForm, ItemForm, ItemMoveForm, ItemStateForm, TodoListForm
from todo.models import Item

from .factories import make_list

# Modest, so that the suite stays fast; no example database on disk (nothing to ignore).
# Each example runs in a transaction that is rolled back, so the function-scoped `db` fixture
# needs no reset between examples.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Any text a request can carry (hypothesis leaves out lone surrogates, which no decoded request
# holds), and, more often than chance would, what people paste or attackers try: whitespace
# around the text, NUL and control characters, very long values, markup and SQL.
tricky = st.sampled_from(
    [" ", "\t", "\n", "\u00a0", "\u3000", "\x00", "\x1b", "é", "😀", "'", '"', "<", "{", "%"]
)
texts = st.one_of(
    st.text(),
    st.text(alphabet=tricky),
    st.text(min_size=95, max_size=210),
    st.tuples(st.text(tricky), st.text(), st.text(tricky)).map("".join),
    st.sampled_from(["'; DROP TABLE todo_item; --", "{{ 7|add:7 }}", "{% debug %}", "<script>"]),
)


def expected_clean(text: str, max_length: int) -> str | None:
    """What a model CharField's form field makes of `text`: stripped, at least one character,
    at most max_length, no NUL (PostgreSQL cannot store it); None when it must be refused."""
    clean = text.strip()
    if not clean or len(clean) > max_length or "\x00" in clean:
        return None
    return clean


def rolled_back():
    """A transaction for one example, undone afterwards."""
    return transaction.atomic()


def check_text_field(form, field: str, text: str, max_length: int) -> str | None:
    clean = expected_clean(text, max_length)
    assert form.is_valid() is (clean is not None), (text, form.errors)
    if clean is None:
        assert list(form.errors) == [field]
        return None
    assert form.cleaned_data[field] == clean
    return clean


@pytest.mark.django_db
@PROPERTY
@given(name=texts)
def test_any_list_name_validates_or_gets_a_field_error_and_round_trips(name):
    """Any list name: a clean value that round-trips, or an error on the name field."""
    form = TodoListForm(data={"name": name})
    clean = check_text_field(form, "name", name, max_length=100)
    if clean is not None:
        with rolled_back():
            todo_list = make_list(name=clean)
            todo_list.refresh_from_db()
            assert todo_list.name == clean
            transaction.set_rollback(True)


@pytest.mark.django_db
@PROPERTY
@given(title=texts)
def test_any_new_item_title_validates_or_gets_a_field_error_and_round_trips(title):
    """Any new item title: a clean value that round-trips, or an error on the title field."""
    form = ItemCreateForm(data={"title": title})
    clean = check_text_field(form, "title", title, max_length=200)
    if clean is not None:
        with rolled_back():
            item = services.item_create(todo_list=make_list(), title=clean)
            item.refresh_from_db()
            assert item.title == clean
            transaction.set_rollback(True)


@pytest.mark.django_db
@PROPERTY
@given(title=texts, state=st.one_of(st.sampled_from(Item.State.values), texts))
def test_any_item_edit_validates_or_gets_field_errors_and_round_trips(title, state):
    """Any item edit: clean values that round-trip, or errors on exactly the bad fields."""
    form = ItemForm(data={"title": title, "state": state})
    clean = expected_clean(title, max_length=200)
    state_ok = state in Item.State.values
    assert form.is_valid() is (clean is not None and state_ok), (title, state, form.errors)
    expected_errors = {"title"} if clean is None else set()
    assert set(form.errors) == expected_errors | (set() if state_ok else {"state"})
    if form.is_valid():
        with rolled_back():
            item = services.item_create(todo_list=make_list(), title="Before")
            services.item_update(item=item, **form.cleaned_data)
            item.refresh_from_db()
            assert (item.title, item.state) == (clean, state)
            transaction.set_rollback(True)


@PROPERTY
@given(state=st.one_of(st.sampled_from(Item.State.values), texts))
def test_the_state_form_takes_exactly_its_choices(state):
    """The state form takes exactly its choices, anything else is a field error."""
    form = ItemStateForm(data={"state": state})
    assert form.is_valid() is (state in Item.State.values)
    assert form.is_valid() or list(form.errors) == ["state"]


@PROPERTY
@given(direction=st.one_of(st.sampled_from(["up", "down"]), texts))
def test_the_move_form_takes_exactly_its_choices(direction):
    """The move form takes exactly its choices, anything else is a field error."""
    form = ItemMoveForm(data={"direction": direction})
    assert form.is_valid() is (direction in {"up", "down"})
    assert form.is_valid() or list(form.errors) == ["direction"]
