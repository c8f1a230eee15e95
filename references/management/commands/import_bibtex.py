"""`manage.py import_bibtex FILE`: the BibTeX import for files too large for the admin.

Same parse → plan → apply steps as the admin. Any failed block makes the command exit
non-zero; without --skip-failed nothing is written then. With --skip-failed the valid
entries are imported and the exit status still reports the failures, so a script notices.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from references import bibtex


class Command(BaseCommand):
    help = "Import references from a BibTeX/biblatex file (UTF-8)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The .bib file, or - for standard input.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing."
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="Overwrite references whose entries changed (default: report them only).",
        )
        parser.add_argument(
            "--skip-failed",
            action="store_true",
            help="Import the valid entries even if some blocks failed (still exits non-zero).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = self._read(options["file"])
        try:
            text = bibtex.decode_bibtex_bytes(data)
        except bibtex.BibtexInputError as error:
            raise CommandError(str(error)) from error

        progress = self._progress if self.stdout.isatty() else None
        parsed = bibtex.parse_bibtex(text=text, progress=progress)
        plan = bibtex.plan_import(parsed=parsed)
        self._clear_progress(progress)
        self._report_plan(plan, update=options["update"])

        failed = plan.failed
        if failed and not options["skip_failed"]:
            raise CommandError(
                f"{len(failed)} block(s) failed; nothing was imported. Fix them, or use "
                "--skip-failed to import the rest."
            )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
        else:
            result = bibtex.apply_import(
                plan=plan, update_existing=options["update"], progress=progress
            )
            self._clear_progress(progress)
            if not result.applied:
                for error in result.errors:
                    self.stderr.write(error)
                raise CommandError("The import was refused while writing; nothing was written.")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported: {len(result.created)} new, {len(result.updated)} updated."
                )
            )
        if failed:
            raise CommandError(
                f"{len(failed)} block(s) failed and were skipped; see the list above."
            )

    def _read(self, name: str) -> bytes:
        if name == "-":
            return sys.stdin.buffer.read()
        path = Path(name)
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error

    def _progress(self, phase: str, done: int, total: int) -> None:
        # An in-place counter on stderr, so stdout stays a clean report.
        self.stderr.write(f"\r{phase}: {done}/{total}", style_func=str, ending="")
        self.stderr.flush()

    def _clear_progress(self, progress: Any) -> None:
        if progress is not None:
            self.stderr.write("\r\033[K", style_func=str, ending="")

    def _report_plan(self, plan: bibtex.ImportPlan, *, update: bool) -> None:
        counts = plan.counts
        changed_note = "" if update or not counts["changed"] else " (not updated: use --update)"
        self.stdout.write(
            f"New: {counts['new']}\n"
            f"Changed: {counts['changed']}{changed_note}\n"
            f"Unchanged: {counts['unchanged']}\n"
            f"Duplicates: {counts['duplicate']}\n"
            f"Failed: {counts['failed']}"
        )
        if plan.skipped:
            self.stdout.write(f"Skipped (not works): {len(plan.skipped)}")
        for item in plan.changed:
            self.stdout.write(f"  changed {item.key} (line {item.line}), cited by {item.cited_by}:")
            for change in item.changes:
                self.stdout.write(
                    f"    {change.label}: {change.old or '(empty)'} → {change.new or '(empty)'}"
                )
        for item in plan.duplicates:
            self.stdout.write(f"  duplicate: {item.message}")
        for item in plan.failed:
            self.stdout.write(self.style.ERROR(f"  failed: {item.message}"))
        for warning in plan.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
