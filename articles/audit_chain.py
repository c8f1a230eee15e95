"""The audit trail as a hash chain, as in a transparency log.

Each event stores the SHA-256 of the event before it and its own SHA-256 over everything
it records. Editing, deleting or inserting an event anywhere breaks a link that
`manage.py verify_audit` finds; a clean verification anchors the head it saw, so cutting
events off the end shows too. Appends are serialized (one writer at a time extends the
chain), so two steps committing together never fork it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEvent, AuditVerification

GENESIS = "0" * 64
# App servers' clocks differ a little; an event dated further back than this before its
# predecessor was backdated.
CLOCK_SKEW = timedelta(seconds=5)
# Any constant: the key of the PostgreSQL advisory lock that serializes appends.
_CHAIN_LOCK_KEY = 0x61756469745F6368  # "audit_ch"


def _timestamp(value: datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_digest(event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over what the event records and its predecessor's hash."""
    canonical = json.dumps(
        {
            "prev": prev_hash,
            "action": event.action,
            "article": event.article_id,
            "revision": event.revision_id,
            "content_hash": event.content_hash,
            "comment": event.comment,
            "actor": event.actor_id,
            "actor_username": event.actor_username,
            "actor_name": event.actor_name,
            "created_at": _timestamp(event.created_at),
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    # PostgreSQL: one appender at a time, until commit. SQLite already serializes writing
    # transactions (the project opens them IMMEDIATE).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def append_event(*, actor=None, **fields) -> AuditEvent:
    """Write one event at the end of the chain. Must run inside the step's transaction."""
    if actor is not None:
        fields.setdefault("actor_username", actor.get_username())
        fields.setdefault("actor_name", actor.get_full_name().strip())
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-pk").only("entry_hash").first()
        prev_hash = last.entry_hash if last is not None else GENESIS
        event = AuditEvent(actor=actor, prev_hash=prev_hash, **fields)
        event.entry_hash = event_digest(event, prev_hash)
        event.save()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    head_event_id: int | None
    head_hash: str
    problem: str = ""


def check_chain() -> ChainReport:
    """Walk the chain from the first event; name the first broken link."""
    prev_hash = GENESIS
    count = 0
    last_id: int | None = None
    last_time: datetime | None = None
    events = AuditEvent.objects.order_by("pk").iterator(chunk_size=2000)
    for event in events:
        count += 1
        if event.prev_hash != prev_hash:
            return ChainReport(
                False,
                count,
                last_id,
                prev_hash,
                f"Audit event {event.pk} does not follow event {last_id or '(start)'}: its "
                "link to the previous event is wrong, so an event before it was changed, "
                "removed or inserted.",
            )
        expected = event_digest(event, prev_hash)
        if event.entry_hash != expected:
            return ChainReport(
                False,
                count,
                last_id,
                prev_hash,
                f"Audit event {event.pk} was changed after it was written: its content no "
                "longer matches its hash.",
            )
        if last_time is not None and event.created_at + CLOCK_SKEW < last_time:
            return ChainReport(
                False,
                count,
                last_id,
                prev_hash,
                f"Audit event {event.pk} is dated before event {last_id}: it was backdated.",
            )
        prev_hash, last_id, last_time = event.entry_hash, event.pk, event.created_at
    anchor = AuditVerification.objects.filter(ok=True).exclude(head_event_id=None).first()
    if anchor is not None and anchor.head_event_id is not None:
        still_there = AuditEvent.objects.filter(
            pk=anchor.head_event_id, entry_hash=anchor.head_hash
        ).exists()
        if not still_there:
            return ChainReport(
                False,
                count,
                last_id,
                prev_hash,
                f"Audit event {anchor.head_event_id}, the last one verified on "
                f"{timezone.localtime(anchor.checked_at):%Y-%m-%d %H:%M}, is gone or changed: "
                "history was cut off or rewritten at the end.",
            )
    return ChainReport(True, count, last_id, prev_hash)


def verify_and_record() -> ChainReport:
    """Check the chain and keep the result, for the admin home and the next check."""
    report = check_chain()
    AuditVerification.objects.create(
        ok=report.ok,
        events_checked=report.events_checked,
        head_event_id=report.head_event_id if report.ok else None,
        head_hash=report.head_hash if report.ok else "",
        problem=report.problem,
    )
    return report


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.first()
