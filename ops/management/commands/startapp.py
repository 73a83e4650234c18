from pathlib import Path

from django.core.management.commands.startapp import Command as DjangoStartAppCommand

# The project's own app skeleton: tests in a tests/ package that pytest collects, and no
# placeholder imports, so that a new app passes `make lint` and `make test` as it comes.
APP_TEMPLATE = Path(__file__).resolve().parents[2] / "app_template"


class Command(DjangoStartAppCommand):
    """Django's startapp, from the project's skeleton unless --template names another."""

    def handle(self, **options):
        options["template"] = options["template"] or str(APP_TEMPLATE)
        return super().handle(**options)
