from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the health endpoint and the commands the deployment runs."""

    name = "ops"
    verbose_name = "Operations"
