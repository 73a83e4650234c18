"""Post the sign-in form (which reads the users table) with Django's test client, in a process
of its own whose database is the one the environment names; print the status, Retry-After and
the page."""

from django.test import Client

response = Client(raise_request_exception=False).post(
    "/accounts/login/", {"username": "ada", "password": "secret"}
)
print("STATUS", response.status_code, response.get("Retry-After"))
print(response.content.decode())
