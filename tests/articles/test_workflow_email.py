"""The e-mails a workflow step queues with transaction.on_commit, and the ones it must not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from articles import workflow
from articles.workflow import WorkflowError
from tests.builders import (
    REVIEWER,
    WRITER,
    approve,
    article_in,
    edit,
    make_article,
    make_editor,
    make_physician,
    make_reviewer_profile,
    make_user,
    make_writer,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail(mailoutbox, django_capture_on_commit_callbacks):
    """Run a step, execute what it queued on commit, return the e-mails it sent."""

    def run(step):
        sent = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            step()
        return mailoutbox[sent:]

    return run


def _recipients(messages):
    return sorted(address for message in messages for address in message.to)


def test_submit_mails_every_active_reviewer_but_not_the_author(mail):
    author = make_user(None, WRITER, REVIEWER, reviewer="active")  # writes and reviews
    alice, bob = make_physician("alice"), make_physician("bob")
    make_user("retired", REVIEWER, reviewer="inactive")
    make_user("gone", REVIEWER, reviewer="active", is_active=False)
    make_user("noprofile", REVIEWER)
    article = make_article(author, title="Sleep and mood")

    messages = mail(lambda: submit(article, note="New article."))

    assert _recipients(messages) == [alice.email, bob.email]
    message = messages[0]
    assert message.subject == "Review requested: Sleep and mood"
    assert "New article." in message.body
    assert "revision 1" in message.body


def test_submit_does_not_ask_the_article_author_to_review(mail):
    author = make_user(None, WRITER, REVIEWER, reviewer="active")
    other = make_physician("other-doctor")
    article = make_article(author)

    messages = mail(lambda: submit(article, by=make_writer()))

    assert _recipients(messages) == [other.email]


@pytest.mark.parametrize("decision", ["approve", "request_changes"])
def test_a_decision_mails_the_author(mail, decision):
    scenario = article_in("pending")
    doctor = make_user("hrymoc", REVIEWER)
    make_reviewer_profile(doctor, display_name="Mark Hrymoc", credentials="M.D.")
    if decision == "approve":
        step = lambda: approve(scenario.revision, doctor, comment="Accurate.")  # noqa: E731
        subject, comment = "Approved", "Accurate."
    else:
        step = lambda: workflow.request_changes(  # noqa: E731
            revision=scenario.revision, actor=doctor, comment="Cite the 2019 trial."
        )
        subject, comment = "Changes requested", "Cite the 2019 trial."

    messages = mail(step)

    assert _recipients(messages) == [scenario.author.email]
    assert messages[0].subject == f"{subject}: {scenario.revision.title}"
    assert "Mark Hrymoc, M.D." in messages[0].body
    assert comment in messages[0].body


def test_a_decision_also_mails_a_submitter_who_is_not_the_author(mail):
    author, colleague = make_writer(), make_writer()
    article = make_article(author)
    revision = submit(article, by=colleague)
    messages = mail(lambda: approve(revision, make_physician()))
    assert _recipients(messages) == sorted([author.email, colleague.email])


def test_publish_mails_the_author(mail):
    scenario = article_in("approved")
    messages = mail(lambda: workflow.publish(revision=scenario.revision, actor=scenario.editor))
    assert _recipients(messages) == [scenario.author.email]
    assert messages[0].subject == f"Published: {scenario.revision.title}"
    assert scenario.article.get_absolute_url() in messages[0].body


def test_a_scheduled_publication_mails_the_author(mail):
    scenario = article_in("scheduled")
    messages = mail(lambda: workflow.publish_due(now=timezone.now() + timedelta(days=8)))
    assert _recipients(messages) == [scenario.author.email]
    assert messages[0].subject.startswith("Published: ")


@pytest.mark.parametrize(
    ("state", "step"),
    [
        ("pending", "wrong_password"),
        ("pending", "no_attestation"),
        ("pending", "own_revision"),
        ("pending", "blank_changes_comment"),
        ("pending", "publish_unapproved"),
        ("pending", "submit_unchanged"),
        ("draft", "unknown_citation"),
        ("live", "publish_live"),
        ("superseded", "approve_superseded"),
    ],
)
def test_a_refused_step_sends_nothing(mail, state, step):
    author = make_user(None, WRITER, REVIEWER, reviewer="active")
    scenario = article_in(state, author=author)
    article, revision, doctor = scenario.article, scenario.revision, scenario.physician
    steps = {
        "wrong_password": lambda: approve(revision, doctor, password="nope"),
        "no_attestation": lambda: approve(revision, doctor, attestation_accepted=False),
        "own_revision": lambda: approve(revision, author),
        "blank_changes_comment": lambda: workflow.request_changes(
            revision=revision, actor=doctor, comment=" "
        ),
        "publish_unapproved": lambda: workflow.publish(revision=revision, actor=make_editor()),
        "submit_unchanged": lambda: submit(article),
        "unknown_citation": lambda: (
            edit(article, "\n\nSee [@missing2024].\n"),
            submit(article),
        ),
        "publish_live": lambda: workflow.publish(revision=revision, actor=make_editor()),
        "approve_superseded": lambda: approve(revision, doctor),
    }

    def attempt():
        with pytest.raises(WorkflowError):
            steps[step]()

    assert mail(attempt) == []


@pytest.mark.parametrize("step", ["withdraw", "schedule", "unschedule"])
def test_steps_without_a_notification_send_nothing(mail, step):
    state = {
        "withdraw": "pending",
        "schedule": "approved",
        "unschedule": "scheduled",
        "unpublish": "live",
    }
    scenario = article_in(state[step])
    actor = scenario.editor
    calls = {
        "withdraw": lambda: workflow.withdraw(revision=scenario.revision, actor=actor),
        "schedule": lambda: workflow.schedule(
            revision=scenario.revision, actor=actor, publish_at=timezone.now() + timedelta(days=1)
        ),
        "unschedule": lambda: workflow.unschedule(revision=scenario.revision, actor=actor),
        "unpublish": lambda: workflow.unpublish(
            article=scenario.article, actor=actor, comment="Pause."
        ),
    }
    assert mail(calls[step]) == []
