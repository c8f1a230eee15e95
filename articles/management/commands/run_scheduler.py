"""Publish scheduled revisions as they fall due, every N seconds, until stopped.

`make run` starts it beside gunicorn. In production run it under systemd (or run
`manage.py publish_scheduled` from cron every minute); several at once, on several app
servers, are safe: each revision is locked and re-checked before it goes live.
SIGTERM or SIGINT (Ctrl-C) stops it cleanly, after the round in progress.
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.scheduling import DEFAULT_INTERVAL_SECONDS, Scheduler


class Command(BaseCommand):
    help = "Publish scheduled revisions as they fall due, every --interval seconds, until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL_SECONDS,
            help="Seconds between runs (default %(default)g).",
        )
        parser.add_argument(
            "--iterations",
            type=int,
            default=None,
            help="Stop after this many runs (default: run until SIGTERM or SIGINT).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            scheduler = Scheduler(interval=options["interval"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["iterations"] is not None and options["iterations"] < 1:
            raise CommandError("--iterations must be at least 1.")

        def stop(signum: int, frame: object) -> None:
            scheduler.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            scheduler.run(iterations=options["iterations"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
