"""List live articles whose medical review is overdue; exit 1 when any is, for monitoring."""

import sys

from django.core.management.base import BaseCommand

from articles.overdue import overdue_articles, review_due_at


class Command(BaseCommand):
    help = "List published articles overdue for medical review (exit status 1 when any)."

    def handle(self, *args, **options):
        overdue = overdue_articles()
        for article in overdue:
            self.stdout.write(
                f"OVERDUE since {review_due_at(article):%Y-%m-%d}: {article.public_revision.title} "
                f"({article.get_absolute_url()})"
            )
        if overdue:
            self.stderr.write(f"{len(overdue)} article(s) overdue for medical review.")
            sys.exit(1)
        self.stdout.write("No article is overdue for medical review.")
