"""`manage.py verify_audit`: walk the audit trail's hash chain; exit 1 at the first break.

Run it daily from cron. Each run is recorded (the admin home shows the last one), and a
clean run anchors the chain head it saw, so a later run notices history cut off at the end.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.audit_chain import verify_and_record


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit non-zero naming the first broken link."

    def handle(self, *args, **options) -> None:
        report = verify_and_record()
        if not report.ok:
            raise CommandError(f"Audit trail BROKEN: {report.problem}")
        self.stdout.write(
            f"Audit trail intact: {report.events_checked} events, head "
            f"{report.head_hash[:16]}… (event {report.head_event_id or '-'})."
        )
