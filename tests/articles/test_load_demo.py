"""`manage.py load_demo`: the seed article and its seven references, through the real
importer and sign-off workflow; safe to run twice and able to finish a half-done run."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from articles import workflow
from articles.management.commands.load_demo import (
    ARTICLE_SLUG,
    DEMO_PASSWORD,
    DEMO_USERS,
    Command,
)
from articles.models import (
    Article,
    AuditAction,
    AuditEvent,
    Category,
    Decision,
    Review,
    Revision,
    RevisionStatus,
)
from references.models import Reference
from reviewers.models import Reviewer

pytestmark = pytest.mark.django_db

KEYS = {
    "auerbach2016",
    "brotto2019",
    "falb2018",
    "lammers2021",
    "mccabe2021",
    "parker2019",
    "rauer2015",
}


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict:
    return {
        "users": User.objects.count(),
        "reviewers": Reviewer.objects.count(),
        "references": Reference.objects.count(),
        "articles": Article.objects.count(),
        "revisions": Revision.objects.count(),
        "reviews": Review.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


EXPECTED = {
    "users": 3,
    "reviewers": 1,
    "references": 7,
    "articles": 1,
    "revisions": 1,
    "reviews": 1,
    "audit_events": 3,
}


def demo_article() -> Article:
    return Article.objects.select_related("live_revision__approval").get(slug=ARTICLE_SLUG)


def trail(article: Article) -> list[tuple[str, str | None]]:
    events = AuditEvent.objects.filter(article=article).order_by("created_at", "pk")
    return [(e.action, e.actor.username if e.actor else None) for e in events]


# --- A fresh run -------------------------------------------------------------------------


def test_first_run_creates_the_demo_clinic():
    out = load_demo()
    assert "Demo content is ready." in out
    assert counts() == EXPECTED
    assert set(Reference.objects.values_list("key", flat=True)) == KEYS


def test_running_twice_creates_nothing_new():
    load_demo()
    first = counts()
    live_before = demo_article().live_revision_id
    out = load_demo()
    assert "Demo content is ready." in out
    assert counts() == first == EXPECTED
    assert demo_article().live_revision_id == live_before


def test_the_demo_article_is_live_on_its_first_revision():
    load_demo()
    article = demo_article()
    revision = article.live_revision
    assert revision is not None
    assert revision.number == 1
    assert revision.status == RevisionStatus.PUBLISHED
    assert Article.objects.published().filter(pk=article.pk).exists()
    assert workflow.approval_is_current(revision)
    assert article.first_published_at is not None
    assert article.author.username == "writer"
    assert revision.title == article.title
    assert revision.content_hash == article.working_hash


def test_audit_trail_reads_submitted_approved_published_with_the_right_actors():
    load_demo()
    article = demo_article()
    assert trail(article) == [
        (AuditAction.SUBMITTED, "writer"),
        (AuditAction.APPROVED, "reviewer"),
        (AuditAction.PUBLISHED, "editor"),
    ]
    hashes = set(AuditEvent.objects.filter(article=article).values_list("content_hash", flat=True))
    assert hashes == {article.live_revision.content_hash}


def test_the_approval_is_signed_by_the_demo_reviewer_for_exactly_this_revision():
    load_demo()
    revision = demo_article().live_revision
    review = revision.approval
    assert review.decision == Decision.APPROVE
    assert review.revision_id == revision.pk
    assert review.revision_hash == revision.content_hash
    assert review.reviewer.user.username == "reviewer"
    assert (review.reviewer_name, review.reviewer_credentials, review.reviewer_title) == (
        "Mark Hrymoc",
        "M.D.",
        "Chief Medical Officer",
    )
    assert review.attestation == workflow.ATTESTATION_TEXT


def test_live_revision_freezes_the_seven_references_as_csl():
    load_demo()
    revision = demo_article().live_revision
    assert len(revision.references_csl) == 7
    assert {item["id"] for item in revision.references_csl} == KEYS
    for item in revision.references_csl:
        assert item["title"]
        assert item["author"]
        assert item["issued"]["date-parts"][0][0] >= 2015


def test_rendered_html_links_every_citation_to_its_reference_entry():
    load_demo()
    revision = demo_article().live_revision
    for key in KEYS:
        assert re.search(rf'<a\b[^>]*\bhref="#ref-{re.escape(key)}"', revision.rendered_html), key
        assert f'id="ref-{key}"' in revision.references_html, key
    linked = set(re.findall(r'href="#ref-([^"]+)"', revision.rendered_html))
    listed = set(re.findall(r'id="ref-([^"]+)"', revision.references_html))
    assert linked == listed == KEYS


def test_rendered_html_has_no_unresolved_citation():
    load_demo()
    revision = demo_article().live_revision
    assert "[@" not in revision.rendered_html
    assert "citation-error" not in revision.rendered_html
    assert demo_article().unknown_citation_keys == []


def test_demo_reviewer_profile():
    load_demo()
    reviewer = Reviewer.objects.get()
    assert reviewer.display_name == "Mark Hrymoc"
    assert reviewer.credentials == "M.D."
    assert reviewer.title == "Chief Medical Officer"
    assert reviewer.byline_name == "Mark Hrymoc, M.D."
    assert reviewer.active
    assert reviewer.user.username == "reviewer"


def test_demo_users_hold_their_roles_and_the_printed_password():
    out = load_demo()
    assert DEMO_PASSWORD in out
    roles = {
        "writer": "Writer",
        "reviewer": "Physician reviewer",
        "editor": "Editor",
    }
    for username, role in roles.items():
        user = User.objects.get(username=username)
        assert user.is_staff and user.is_active and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(DEMO_PASSWORD)


def test_second_run_keeps_a_changed_password():
    load_demo()
    user = User.objects.get(username="editor")
    user.set_password("the-editor-chose-another-one")
    user.save()
    load_demo()
    assert User.objects.get(username="editor").check_password("the-editor-chose-another-one")


# --- A half-finished earlier run ---------------------------------------------------------


def _prepare_until(state: str) -> Revision:
    """Do what load_demo does, but stop at `state`; return the demo revision."""
    command = Command(stdout=StringIO(), stderr=StringIO())
    users = {
        username: command._user(username, first, last, role)
        for username, first, last, role in DEMO_USERS
    }
    command._reviewer(users["reviewer"])
    category, _ = Category.objects.get_or_create(
        slug="relationships-and-intimacy", defaults={"name": "Relationships & Intimacy"}
    )
    command._references()
    article = command._article(users["writer"], category)
    revision = workflow.submit_for_review(
        article=article, actor=users["writer"], change_note="First publication."
    )
    if state == "withdrawn":
        workflow.withdraw(revision=revision, actor=users["writer"])
    if state == "approved":
        workflow.approve(
            revision=revision,
            actor=users["reviewer"],
            password=DEMO_PASSWORD,
            attestation_accepted=True,
            seen_hash=revision.content_hash,
        )
    return Revision.objects.get(pk=revision.pk)


def test_carries_on_to_publish_an_already_submitted_article():
    pending = _prepare_until("pending")
    assert pending.status == RevisionStatus.PENDING
    load_demo()
    assert counts() == EXPECTED
    article = demo_article()
    assert article.live_revision_id == pending.pk
    assert trail(article) == [
        (AuditAction.SUBMITTED, "writer"),
        (AuditAction.APPROVED, "reviewer"),
        (AuditAction.PUBLISHED, "editor"),
    ]


def test_carries_on_to_publish_an_already_approved_article():
    approved = _prepare_until("approved")
    load_demo()
    assert counts() == EXPECTED
    assert demo_article().live_revision_id == approved.pk
    assert [action for action, _ in trail(demo_article())] == [
        AuditAction.SUBMITTED,
        AuditAction.APPROVED,
        AuditAction.PUBLISHED,
    ]


def test_resubmits_after_a_withdrawn_submission():
    withdrawn = _prepare_until("withdrawn")
    load_demo()
    article = demo_article()
    assert article.live_revision_id not in (None, withdrawn.pk)
    assert article.live_revision.number == 2
    assert Revision.objects.get(pk=withdrawn.pk).status == RevisionStatus.WITHDRAWN
    assert [action for action, _ in trail(article)] == [
        AuditAction.SUBMITTED,
        AuditAction.WITHDRAWN,
        AuditAction.SUBMITTED,
        AuditAction.APPROVED,
        AuditAction.PUBLISHED,
    ]
