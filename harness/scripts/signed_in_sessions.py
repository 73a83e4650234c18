"""Make HARNESS_COUNT superusers, each signed in: a session in the database as the sign-in
view would leave it, without a password or a sign-in POST (nginx limits those per client).
Prints [[session key, username], ...]."""

import json
import os
import secrets

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore

User = get_user_model()
made = []
for _ in range(int(os.environ["HARNESS_COUNT"])):
    user = User.objects.create_superuser(f"visitor-{secrets.token_hex(4)}")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    made.append([session.session_key, user.username])
print(json.dumps(made))
