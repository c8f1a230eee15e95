"""Retire every cached public page at once, on every app server."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from pagecache.version import retire_all_pages


class Command(BaseCommand):
    help = (
        "Retire every cached public page. Changes readers can see do this by themselves; "
        "this is for a change the database cannot see, such as a template edited in place."
    )

    def handle(self, *args, **options) -> None:
        state = retire_all_pages()
        self.stdout.write(f"Public pages retired; new version {state.token[:8]}.")
