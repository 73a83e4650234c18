"""Create the superuser named by DJANGO_SUPERUSER_* environment variables.

A data migration, so that a fresh database gets its admin account by `migrate` alone, with
the credentials kept out of the repository and off command lines. It is a no-op when the
variables are absent (tests, environments that create users another way) and when the user
already exists (a password changed since is never reset). A password that the site's own
validators would refuse (AUTH_PASSWORD_VALIDATORS) stops the migration with one line saying
why, before any account exists.
"""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import migrations

from config.env import InvalidSettingError, config, secret


def create_superuser(apps, schema_editor):
    username = config("DJANGO_SUPERUSER_USERNAME", default="")
    # DJANGO_SUPERUSER_PASSWORD_FILE (a Docker secret) works too.
    password = secret("DJANGO_SUPERUSER_PASSWORD", default="")
    if not (username and password):
        return
    # The historical model, as it was at this migration: later changes cannot break it.
    User = apps.get_model("accounts", "User")
    users = User._default_manager.db_manager(schema_editor.connection.alias)
    if users.filter(username=username).exists():
        return
    user = User(
        username=username,
        email=config("DJANGO_SUPERUSER_EMAIL", default=""),
        is_staff=True,
        is_superuser=True,
    )
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise InvalidSettingError(
            f"DJANGO_SUPERUSER_PASSWORD is too weak: {' '.join(error.messages)} "
            "Choose another (`make env` generates a strong one)."
        ) from None
    user.password = make_password(password)
    user.save(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    # The user table must exist first.
    dependencies = [("accounts", "0001_initial")]

    operations = [
        # Reversing leaves the account alone: it may hold data that outlived the migration.
        migrations.RunPython(create_superuser, migrations.RunPython.noop, elidable=False),
    ]
