from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The project's user model, in place from day one so that it can grow without a
    painful migration later (Django's docs recommend this for every new project)."""
