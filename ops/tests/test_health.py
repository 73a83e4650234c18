from http import HTTPStatus

import pytest
from django.conf import settings
from django.urls import reverse


@pytest.mark.django_db
def test_health_answers_ok_with_the_database_and_names_the_host(client):
    response = client.get(reverse("health"))
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok", "host": settings.HOSTNAME}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_refuses_writes(client):
    assert client.post(reverse("health")).status_code == HTTPStatus.METHOD_NOT_ALLOWED
