"""Two workers at once, on PostgreSQL where row locks are real.

`publish_scheduled` may run from cron on several hosts at the same minute, and two
physicians may press Approve on the same revision together: each must happen once.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.db import connection, connections
from django.utils import timezone

from articles import workflow
from articles.models import AuditAction, AuditEvent, Review, Revision
from articles.roles import apply_role_permissions
from tests.builders import PASSWORD, article_in, fresh, make_physician

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes"
    ),
]


@pytest.fixture(autouse=True)
def roles():
    """Transactional tests empty the database between tests, migration data included."""
    from django.apps import apps

    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    apply_role_permissions(Group, Permission)


def run_together(*steps):
    """Start every step at the same moment in its own thread (own connection)."""
    barrier = threading.Barrier(len(steps))
    outcomes: list = [None] * len(steps)

    def worker(index, step):
        try:
            barrier.wait()
            outcomes[index] = step()
        except Exception as error:  # noqa: BLE001 - the outcome is what we inspect
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_scheduled_runs_at_once_publish_a_revision_once():
    scenario = article_in("approved")
    Revision.objects.filter(pk=scenario.revision.pk).update(
        publish_at=timezone.now() - timedelta(minutes=1), scheduled_by=scenario.editor
    )

    first, second = run_together(workflow.publish_due, workflow.publish_due)

    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    assert len(first) + len(second) == 1
    assert fresh(scenario.article).live_revision_id == scenario.revision.pk
    published = AuditEvent.objects.filter(revision=scenario.revision, action=AuditAction.PUBLISHED)
    assert published.count() == 1


def test_two_physicians_approving_together_make_one_approval():
    scenario = article_in("pending")
    doctors = [make_physician(), make_physician()]

    def approve_as(doctor):
        return lambda: workflow.approve(
            revision=scenario.revision,
            actor=doctor,
            password=PASSWORD,
            attestation_accepted=True,
            seen_hash=scenario.revision.content_hash,
        )

    outcomes = run_together(*(approve_as(d) for d in doctors))

    reviews = [o for o in outcomes if isinstance(o, Review)]
    refusals = [o for o in outcomes if isinstance(o, workflow.WorkflowError)]
    assert len(reviews) == 1 and len(refusals) == 1, outcomes
    assert "already approved" in str(refusals[0])
    assert Review.objects.filter(revision=scenario.revision).count() == 1
    assert fresh(scenario.revision).approval_id == reviews[0].pk


ROUNDS = 20


def _no_crash(outcomes) -> None:
    """Each step either happened or was refused with a message; none died on a deadlock."""
    for outcome in outcomes:
        assert not isinstance(outcome, Exception) or isinstance(outcome, workflow.WorkflowError), (
            repr(outcome)
        )


def test_publish_and_submit_at_once_never_deadlock():
    """An editor publishes an approved revision while the writer submits the next one."""
    from tests.builders import edit

    for _ in range(ROUNDS):
        scenario = article_in("approved")
        edited = edit(scenario.article)
        outcomes = run_together(
            lambda s=scenario: workflow.publish(revision=s.revision, actor=s.editor),
            lambda s=scenario, a=edited: workflow.submit_for_review(
                article=a, actor=s.author, change_note="Next version."
            ),
        )
        _no_crash(outcomes)
        # Whichever took the article first decides: published, or superseded by the new
        # submission and then refused with a message. Never both, never a crash.
        published = not isinstance(outcomes[0], Exception)
        live = fresh(scenario.article).live_revision_id
        assert live == (scenario.revision.pk if published else None)


def test_approve_and_unpublish_at_once_never_deadlock():
    """A physician approves the next revision while an editor takes the article down."""
    from tests.builders import edit, submit

    for _ in range(ROUNDS):
        scenario = article_in("approved")
        workflow.publish(revision=scenario.revision, actor=scenario.editor)
        pending = submit(edit(scenario.article))
        doctor = make_physician()
        outcomes = run_together(
            lambda p=pending, d=doctor: workflow.approve(
                revision=p,
                actor=d,
                password=PASSWORD,
                attestation_accepted=True,
                seen_hash=p.content_hash,
            ),
            lambda s=scenario: workflow.unpublish(
                article=s.article, actor=s.editor, comment="Pause."
            ),
        )
        _no_crash(outcomes)
        assert fresh(scenario.article).live_revision_id is None
        assert fresh(pending).approval_id is not None
