"""A forgotten password, reset by mail: Django's views with the project's templates, the mail
sent by a task. Here the task runs at once; the Docker suite runs the same through the
worker and the mail catcher (tests/docker/test_compose.py)."""

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.tasks.signals import task_enqueued
from django.urls import reverse

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def reset_link(message) -> str:
    found = re.search(r"https?://testserver(/accounts/reset/\S+/)", message.body)
    assert found, message.body
    return found[1]


def request_reset(client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def test_the_sign_in_page_leads_to_the_reset_page(client):
    page = client.get(reverse("login")).text
    assert f'href="{reverse("password_reset")}"' in page
    form = client.get(reverse("password_reset"))
    assert form.status_code == HTTPStatus.OK
    assert "<h1>Reset your password</h1>" in form.text


def test_the_reset_mail_is_sent_by_a_task(client, alice):
    alice.email = "alice@example.com"
    alice.save()
    enqueued = []
    record = lambda sender, task_result, **kwargs: enqueued.append(task_result)  # noqa: E731
    task_enqueued.connect(record)
    try:
        response = request_reset(client, "alice@example.com")
    finally:
        task_enqueued.disconnect(record)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("password_reset_done")
    assert [result.task.module_path for result in enqueued] == ["ops.tasks.send_email"]
    # Only text travels through the queue, never a user object.
    assert enqueued[0].kwargs["to"] == ["alice@example.com"]
    [sent] = mail.outbox
    assert sent.subject == "Reset your password on testserver"
    assert "\n" not in sent.subject


def test_the_link_sets_a_new_password_once(client, alice):
    alice.email = "alice@example.com"
    alice.save()
    request_reset(client, "alice@example.com")
    link = reset_link(mail.outbox[0])

    # Django moves the token from the URL into the session, then shows the form.
    form_page = client.get(link, follow=True)
    assert "<h1>Choose a new password</h1>" in form_page.text
    set_password = form_page.redirect_chain[-1][0]
    done = client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == reverse("password_reset_complete")

    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert not alice.check_password(PASSWORD)
    again = client.get(link, follow=True)
    assert "<h1>This link no longer works</h1>" in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, alice):
    """Nobody learns from the answer whether an address has an account."""
    response = request_reset(client, "nobody@example.com")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
