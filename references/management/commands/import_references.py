"""`manage.py import_references FILE`: the reference import for files of any size.

Reads BibTeX/biblatex, RIS, CSL-JSON and PubMed/MEDLINE (.nbib), told apart by content
unless `--format` says which. Same read → plan → apply steps as the admin. Any failed
entry or record makes the command exit non-zero; without --skip-failed nothing is written
then. With --skip-failed the valid ones are imported and the exit status still reports
the failures, so a script notices. A file that cannot be read at all (not UTF-8, invalid
JSON) writes nothing and names the line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from references import importing


class Command(BaseCommand):
    help = (
        "Import references from a BibTeX/biblatex, RIS, CSL-JSON or PubMed (MEDLINE/.nbib) "
        "file (UTF-8)."
    )
    # import_bibtex sets this to read BibTeX unless told otherwise.
    default_format: str | None = None

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The file, or - for standard input.")
        parser.add_argument(
            "--format",
            choices=importing.format_names(),
            default=self.default_format,
            help="Read the file as this format instead of telling it from the content.",
        )
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
            help="Import the valid entries even if some failed (still exits non-zero).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = self._read(options["file"])
        progress = self._progress if self.stdout.isatty() else None
        try:
            text = importing.decode_bytes(data)
            plan = importing.preview(text=text, format=options["format"], progress=progress)
        except importing.InputError as error:
            self._clear_progress(progress)
            raise CommandError(str(error)) from error
        self._clear_progress(progress)
        self._report_plan(plan, update=options["update"])

        failed = plan.failed
        unit = "block" if plan.format == "bibtex" else importing.get_reader(plan.format).unit
        if failed and not options["skip_failed"]:
            raise CommandError(
                f"{len(failed)} {unit}(s) failed; nothing was imported. Fix them, or use "
                "--skip-failed to import the rest."
            )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
        else:
            result = importing.apply_import(
                plan=plan, update_existing=options["update"], progress=progress
            )
            self._clear_progress(progress)
            if not result.applied:
                for problem in result.errors:
                    self.stderr.write(problem)
                raise CommandError("The import was refused while writing; nothing was written.")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported: {len(result.created)} new, {len(result.updated)} updated."
                )
            )
        if failed:
            raise CommandError(
                f"{len(failed)} {unit}(s) failed and were skipped; see the list above."
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

    def _report_plan(self, plan: importing.ImportPlan, *, update: bool) -> None:
        counts = plan.counts
        changed_note = "" if update or not counts["changed"] else " (not updated: use --update)"
        self.stdout.write(
            f"Format: {plan.format_label}\n"
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
