"""Create the user HARNESS_USERNAME with HARNESS_PASSWORD (never on a command line) and the
address HARNESS_EMAIL, if given; staff and superuser when HARNESS_SUPERUSER is set. Prints
its primary key."""

import json
import os

from django.contrib.auth import get_user_model

User = get_user_model()
create = (
    User.objects.create_superuser
    if os.environ.get("HARNESS_SUPERUSER")
    else User.objects.create_user
)
user = create(
    os.environ["HARNESS_USERNAME"],
    email=os.environ.get("HARNESS_EMAIL", ""),
    password=os.environ["HARNESS_PASSWORD"],
)
print(json.dumps({"pk": user.pk}))
