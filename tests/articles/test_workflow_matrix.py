"""Every role × every workflow action × every workflow state, with its expected outcome.

The expected outcome of a cell is read off two tables:

* ROLE_TABLE says which roles may take an action at all. A role marked ``_`` is refused
  with WorkflowPermissionDenied in every state (permission is checked before state).
* STATE_TABLE says what happens when a role that may take the action takes it in a given
  state: ``OK`` (allowed), ``ERR`` (refused with a plain WorkflowError) or ``NA`` (the
  action needs a revision and a draft has none).

An allowed cell checks exactly what changed (everything else is compared unchanged) and
the one audit event it wrote; a refused cell checks the exact exception type and that the
database and the notification queue did not change.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from articles import workflow
from articles.models import AuditAction, Revision, RevisionStatus
from articles.workflow import WorkflowError, WorkflowPermissionDenied
from tests.builders import (
    PASSWORD,
    ROLES,
    STATES,
    article_in,
    edit,
    latest_event,
    make_actor,
    snapshot,
)

ACTIONS = (
    "submit_edited",  # submit_for_review after the author changed the working copy
    "submit_unchanged",  # submit_for_review of the working copy as it stands
    "withdraw",
    "approve",
    "request_changes",
    "publish",
    "schedule",
    "unschedule",
    "unpublish",
)

Y = True  # may take the action; the outcome depends on the state
_ = False  # refused with WorkflowPermissionDenied, whatever the state

# fmt: off
ROLE_TABLE = [
    # role                   submit submit  with-  approve changes publish sched- unsch- unpub-
    #                        edited unchgd  draw                           ule    edule  lish
    ("anonymous",            _,     _,      _,     _,      _,      _,      _,     _,     _),
    ("inactive",             _,     _,      _,     _,      _,      _,      _,     _,     _),
    ("staff",                _,     _,      _,     _,      _,      _,      _,     _,     _),
    ("writer",               Y,     Y,      Y,     _,      _,      _,      _,     _,     _),
    ("other_writer",         Y,     Y,      _,     _,      _,      _,      _,     _,     _),
    ("reviewer",             _,     _,      _,     Y,      Y,      _,      _,     _,     _),
    ("reviewer_no_profile",  _,     _,      _,     _,      _,      _,      _,     _,     _),
    ("reviewer_author",      Y,     Y,      Y,     _,      _,      _,      _,     _,     _),
    ("reviewer_inactive",    _,     _,      _,     _,      _,      _,      _,     _,     _),
    ("editor",               _,     _,      Y,     _,      _,      Y,      Y,     Y,     Y),
    ("superuser",            Y,     Y,      Y,     _,      _,      Y,      Y,     Y,     Y),
    ("superuser_author",     Y,     Y,      Y,     _,      _,      Y,      Y,     Y,     Y),
]

OK, ERR, NA = "ok", "error", None

STATE_TABLE = [
    # state                submit submit  with-  approve changes publish sched- unsch- unpub-
    #                      edited unchgd  draw                           ule    edule  lish
    ("draft",              OK,    OK,     NA,    NA,     NA,     NA,     NA,    NA,    ERR),
    ("pending",            OK,    ERR,    OK,    OK,     OK,     ERR,    ERR,   ERR,   ERR),
    ("changes_requested",  OK,    ERR,    ERR,   ERR,    ERR,    ERR,    ERR,   ERR,   ERR),
    ("approved",           OK,    ERR,    ERR,   ERR,    ERR,    OK,     OK,    ERR,   ERR),
    ("scheduled",          OK,    ERR,    ERR,   ERR,    ERR,    OK,     OK,    OK,    ERR),
    ("live",               OK,    ERR,    ERR,   ERR,    ERR,    ERR,    ERR,   ERR,   OK),
    ("live_pending",       OK,    ERR,    OK,    OK,     OK,     ERR,    ERR,   ERR,   OK),
    ("superseded",         OK,    ERR,    ERR,   ERR,    ERR,    ERR,    ERR,   ERR,   ERR),
    ("withdrawn",          OK,    OK,     ERR,   ERR,    ERR,    ERR,    ERR,   ERR,   ERR),
    ("expired",            OK,    ERR,    ERR,   OK,     ERR,    ERR,    ERR,   ERR,   ERR),
    ("unpublished",        OK,    ERR,    ERR,   ERR,    ERR,    OK,     OK,    ERR,   ERR),
]
# fmt: on
# States (the revision acted on is `Story.revision`):
#   draft             an article that was never submitted (no revision)
#   pending           revision 1 waits for review
#   changes_requested revision 1 sent back by a physician (resubmitting it unchanged: refused)
#   approved          revision 1 approved, not published
#   scheduled         revision 1 approved and scheduled a week ahead
#   live              revision 1 published and live
#   live_pending      revision 1 live; revision 2 (the target) submitted and pending
#   superseded        revision 1 approved, then revision 2 submitted (target: revision 1)
#   withdrawn         revision 1 withdrawn by its writer
#   expired           revision 1 approved, the approval older than the review interval
#   unpublished       revision 1 was live, then unpublished (status stays "published")

assert [row[0] for row in STATE_TABLE] == list(STATES)
assert [row[0] for row in ROLE_TABLE] == list(ROLES)
assert all(len(row) == len(ACTIONS) + 1 for row in ROLE_TABLE + STATE_TABLE)


def _cells():
    for role, *may in ROLE_TABLE:
        for state, *outcomes in STATE_TABLE:
            for action, allowed, outcome in zip(ACTIONS, may, outcomes, strict=True):
                if outcome is NA:
                    continue
                expected = outcome if allowed else "denied"
                yield pytest.param(role, state, action, expected, id=f"{action}-{state}-{role}")


CELLS = list(_cells())

NOTE = "Table change note."
COMMENT = "Table comment."
QUEUES_MAIL = {
    "submit_edited",
    "submit_unchanged",
    "approve",
    "request_changes",
    "publish",
    "unpublish",
}
OPEN = {RevisionStatus.PENDING, RevisionStatus.APPROVED, RevisionStatus.CHANGES_REQUESTED}


def _take(action: str, scenario, actor, when):
    article, revision = scenario.article, scenario.revision
    match action:
        case "submit_edited" | "submit_unchanged":
            return workflow.submit_for_review(article=article, actor=actor, change_note=NOTE)
        case "withdraw":
            return workflow.withdraw(revision=revision, actor=actor, comment=COMMENT)
        case "approve":
            return workflow.approve(
                revision=revision,
                actor=actor,
                password=PASSWORD,
                attestation_accepted=True,
                seen_hash=revision.content_hash,
                comment=COMMENT,
            )
        case "request_changes":
            return workflow.request_changes(revision=revision, actor=actor, comment=COMMENT)
        case "publish":
            return workflow.publish(revision=revision, actor=actor, comment=COMMENT)
        case "schedule":
            return workflow.schedule(revision=revision, actor=actor, publish_at=when)
        case "unschedule":
            return workflow.unschedule(revision=revision, actor=actor)
        case "unpublish":
            return workflow.unpublish(article=article, actor=actor, comment=COMMENT)
    raise AssertionError(action)


def _expected_after(action, before, scenario, actor, result, after, window, when):
    """`before` with exactly the changes `action` should make; timestamps the step chose
    itself are taken from `after` once shown to lie inside the step's time window."""
    expected = before.copy()
    expected.counts["audit_events"] += 1
    target = scenario.revision.pk if scenario.revision else None

    def stamped(value):
        assert value is not None and window[0] <= value <= window[1]
        return value

    if action.startswith("submit"):
        expected.counts["revisions"] += 1
        for row in expected.revisions.values():
            if row["status"] in OPEN:
                row["status"] = RevisionStatus.SUPERSEDED
                row["publish_at"] = None
        numbers = [row["number"] for row in before.revisions.values()]
        expected.revisions[result.pk] = {
            "number": max(numbers, default=0) + 1,
            "status": RevisionStatus.PENDING,
            "approval_id": None,
            "publish_at": None,
            "published_at": None,
            "scheduled_by_id": None,
            # What was frozen is exactly the working copy the writer saw.
            "content_hash": before.working_hash,
        }
    elif action == "withdraw":
        expected.revisions[target]["status"] = RevisionStatus.WITHDRAWN
    elif action in ("approve", "request_changes"):
        expected.counts["reviews"] += 1
        row = expected.revisions[target]
        if action == "approve":
            row["approval_id"] = result.pk
            if row["status"] == RevisionStatus.PENDING:
                row["status"] = RevisionStatus.APPROVED
        else:
            row["status"] = RevisionStatus.CHANGES_REQUESTED
    elif action == "publish":
        expected.live_revision_id = target
        expected.first_published_at = before.first_published_at or stamped(after.first_published_at)
        row = expected.revisions[target]
        row["status"] = RevisionStatus.PUBLISHED
        row["publish_at"] = None
        row["published_at"] = row["published_at"] or stamped(
            after.revisions[target]["published_at"]
        )
    elif action == "schedule":
        expected.revisions[target]["publish_at"] = when
        expected.revisions[target]["scheduled_by_id"] = actor.pk
    elif action == "unschedule":
        expected.revisions[target]["publish_at"] = None
    elif action == "unpublish":
        expected.live_revision_id = None
    return expected


def _check_audit_event(action, scenario, actor, result, before, when):
    event = latest_event()
    assert event.actor_id == actor.pk
    assert event.article_id == scenario.article.pk
    if action.startswith("submit"):
        revision = result
        superseded = sorted(
            row["number"] for row in before.revisions.values() if row["status"] in OPEN
        )
        comment = NOTE
        if superseded:
            numbers = ", ".join(str(n) for n in superseded)
            comment += f"\n(Supersedes unpublished revision {numbers}.)"
        expected = (AuditAction.SUBMITTED, comment)
    elif action == "unpublish":
        revision = Revision.objects.get(pk=before.live_revision_id)
        expected = (AuditAction.UNPUBLISHED, COMMENT)
    else:
        revision = scenario.revision
        expected = {
            "withdraw": (AuditAction.WITHDRAWN, COMMENT),
            "approve": (AuditAction.APPROVED, f"{COMMENT}\nConflicts of interest: none declared"),
            "request_changes": (AuditAction.CHANGES_REQUESTED, COMMENT),
            "publish": (AuditAction.PUBLISHED, COMMENT),
            "schedule": (
                AuditAction.SCHEDULED,
                f"To publish at {timezone.localtime(when):%Y-%m-%d %H:%M %Z}.",
            ),
            "unschedule": (AuditAction.UNSCHEDULED, ""),
        }[action]
    assert (event.action, event.comment) == expected
    assert event.revision_id == revision.pk
    assert event.content_hash == revision.content_hash != ""


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "state", "action", "expected"), CELLS)
def test_workflow_matrix(role, state, action, expected, django_capture_on_commit_callbacks):
    actor = make_actor(role)
    scenario = article_in(state, author=actor if ROLES[role].author else None)
    if action == "submit_edited":
        edit(scenario.article)
        scenario.refresh()
    when = timezone.now() + timedelta(days=3)
    before = snapshot(scenario.article)

    with scenario.clock(), django_capture_on_commit_callbacks() as callbacks:
        started = timezone.now()
        if expected == "ok":
            result = _take(action, scenario, actor, when)
        else:
            refusal = WorkflowPermissionDenied if expected == "denied" else WorkflowError
            with pytest.raises(WorkflowError) as caught:
                _take(action, scenario, actor, when)
            # The exact type: a state refusal is not a permission refusal, and vice versa.
            assert type(caught.value) is refusal, caught.value
            assert str(caught.value)
        after = snapshot(scenario.article)
        window = (started, timezone.now())

    if expected != "ok":
        assert after == before
        assert callbacks == []
        return

    assert after == _expected_after(action, before, scenario, actor, result, after, window, when)
    _check_audit_event(action, scenario, actor, result, before, when)
    assert len(callbacks) == (1 if action in QUEUES_MAIL else 0)
