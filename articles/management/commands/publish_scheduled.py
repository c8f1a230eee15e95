"""Publish scheduled revisions whose time has come. Run it every minute from cron; two
runs at once are safe (each revision is locked and re-checked before it goes live)."""

from django.core.management.base import BaseCommand

from articles.workflow import publish_due


class Command(BaseCommand):
    help = "Publish approved revisions whose scheduled time has passed."

    def handle(self, *args, **options):
        published = publish_due()
        for revision in published:
            self.stdout.write(f"Published “{revision.title}” (revision {revision.number}).")
        if not published:
            self.stdout.write("Nothing due.")
