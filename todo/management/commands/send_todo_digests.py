"""`python manage.py send_todo_digests`: one digest task per user with open items. Run it from
a scheduler (once a day, say); the worker sends the mails."""

from django.core.management.base import BaseCommand

from todo.tasks import send_digest, users_with_open_items


class Command(BaseCommand):
    help = "Enqueue a digest of open to-do items for every user who has some."

    def handle(self, *args, **options):
        user_ids = list(users_with_open_items().values_list("pk", flat=True))
        for user_id in user_ids:
            send_digest.enqueue(user_id=user_id)
        self.stdout.write(f"{len(user_ids)} digests enqueued")
