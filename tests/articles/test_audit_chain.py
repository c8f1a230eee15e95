"""The audit trail is a hash chain: whoever edits, removes or backdates an event by hand,
`verify_audit` names the first broken link and exits non-zero.

The tampering is done as a database superuser would: raw SQL with the row triggers lifted
for the statement (inside the test's transaction, so the schema is restored afterwards).
"""

from __future__ import annotations

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from articles.audit_chain import GENESIS, check_chain, event_digest
from articles.models import AuditEvent, AuditVerification
from tests.builders import article_in, edit, submit
from tests.db_role_plugin import owner_privileges

pytestmark = pytest.mark.django_db


@contextmanager
def as_superuser_by_hand():
    """Lift the append-only triggers, as someone with full rights on the database could."""
    with owner_privileges(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser's switch that skips every user trigger for this session.
            cursor.execute("SET session_replication_role = replica")
            try:
                yield cursor
            finally:
                cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER articles_auditevent_append_only")
            yield cursor


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def three_steps():
    s = article_in("live")
    submit(edit(s.article))
    return list(AuditEvent.objects.order_by("pk"))


def test_an_untouched_trail_verifies_and_the_result_is_kept():
    events = three_steps()
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(events, events[1:], strict=False))
    assert all(e.entry_hash == event_digest(e, e.prev_hash) for e in events)
    assert f"{len(events)} events" in verify()
    check = AuditVerification.objects.get()
    assert check.ok and check.head_event_id == events[-1].pk


@pytest.mark.parametrize(
    ("tamper", "names"),
    [
        ("UPDATE articles_auditevent SET comment = 'forged' WHERE id = {mid}", "{mid}"),
        ("UPDATE articles_auditevent SET actor_username = 'someone' WHERE id = {mid}", "{mid}"),
        ("UPDATE articles_auditevent SET created_at = created_at WHERE id = {mid}", None),
        ("DELETE FROM articles_auditevent WHERE id = {mid}", "{after}"),
    ],
)
def test_hand_edits_break_the_chain_at_the_edited_event(tamper, names):
    events = three_steps()
    mid, after = events[1].pk, events[2].pk
    with as_superuser_by_hand() as cursor:
        cursor.execute(tamper.format(mid=mid))
    if names is None:  # a no-op "edit" changes nothing
        assert check_chain().ok
        return
    with pytest.raises(CommandError, match=f"Audit event {names.format(mid=mid, after=after)} "):
        verify()
    assert not AuditVerification.objects.get().ok


def test_cutting_off_the_end_after_a_verification_shows():
    events = three_steps()
    verify()
    with as_superuser_by_hand() as cursor:
        cursor.execute("DELETE FROM articles_auditevent WHERE id = %s", [events[-1].pk])
    with pytest.raises(CommandError, match=f"Audit event {events[-1].pk}, the last one verified"):
        verify()


def test_the_admin_home_shows_the_last_verification(client):
    from tests.builders import make_superuser

    three_steps()
    client.force_login(make_superuser())
    home = client.get("/admin/").content.decode()
    assert "has never been verified" in home
    verify()
    home = client.get("/admin/").content.decode()
    assert "Last verified clean" in home
