"""Who may sign what, and what a signature stays bound to.

Each refusal here also shows the database did not change.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from articles.models import Article, Category, Review, Revision
from articles.workflow import WorkflowPermissionDenied
from tests.builders import (
    EDITOR,
    REVIEWER,
    WRITER,
    approve,
    article_in,
    edit,
    fresh,
    make_editor,
    make_physician,
    make_reviewer_profile,
    make_user,
    snapshot,
    submit,
)

pytestmark = pytest.mark.django_db


def test_a_physician_who_edited_the_working_copy_cannot_sign_it_off():
    """Writer and physician roles in one person: their edit, someone else's submission."""
    scenario = article_in("draft")
    both = make_user(None, WRITER, REVIEWER)
    make_reviewer_profile(both)
    edit(scenario.article, "\n\nA sentence the physician wrote.\n", by=both)
    revision = submit(scenario.article)  # submitted by the article's author, not by them
    before = snapshot(scenario.article)

    with pytest.raises(WorkflowPermissionDenied, match="wrote or edited"):
        approve(revision, both)

    assert snapshot(scenario.article) == before
    assert fresh(revision).approval_id is None
    # An independent physician can.
    approve(revision, make_physician())
    assert fresh(revision).approval is not None


def test_editors_publish_but_do_not_edit_article_text():
    person = make_editor()
    assert person.has_perm("articles.publish_article")
    assert not person.has_perm("articles.change_article")


def test_the_review_records_the_account_that_signed():
    scenario = article_in("pending")
    signer = make_physician()
    review = approve(scenario.revision, signer)
    assert review.signed_by == signer
    assert fresh(review).signed_by_id == signer.pk


def test_public_pages_ignore_a_live_revision_whose_approval_is_of_other_content():
    """Defence in depth: even a row written around the workflow cannot go public."""
    scenario = article_in("live")
    other = article_in("approved")
    assert Article.objects.published().filter(pk=scenario.article.pk).exists()
    Revision.objects.filter(pk=scenario.article.live_revision_id).update(
        approval=other.revision.approval
    )
    assert not Article.objects.published().filter(pk=scenario.article.pk).exists()


def test_a_category_may_shorten_the_review_interval_but_not_lengthen_it(settings):
    settings.REVIEW_INTERVAL_DAYS = 365
    Category(name="Dosing", slug="dosing", review_interval_days=90).full_clean()
    with pytest.raises(ValidationError, match="At most the site's interval, 365 days"):
        Category(name="Anatomy", slug="anatomy", review_interval_days=5000).full_clean()
    assert not Category.objects.filter(slug="anatomy").exists()


class _BrokenMailServer:
    """An e-mail backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server is down")


def test_a_mail_server_that_is_down_does_not_undo_or_hide_a_done_step(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}._BrokenMailServer"
    scenario = article_in("pending")
    with django_capture_on_commit_callbacks(execute=True):
        review = approve(scenario.revision, make_physician())
    assert fresh(scenario.revision).approval_id == review.pk
    assert Review.objects.filter(pk=review.pk).exists()
    assert mail.outbox == []


def test_load_demo_refuses_where_demo_content_is_not_allowed(settings):
    settings.DEMO_CONTENT_ALLOWED = False
    with pytest.raises(CommandError, match="DEMO_CONTENT_ALLOWED"):
        call_command("load_demo")
    assert not Article.objects.exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username__in=["writer", "editor"]).exists()


def test_load_demo_leaves_a_real_account_with_a_demo_name_alone():
    from django.contrib.auth import get_user_model

    real = make_user("editor", WRITER)
    with pytest.raises(CommandError, match="leaves real accounts alone"):
        call_command("load_demo")
    real = get_user_model().objects.get(pk=real.pk)
    assert list(real.groups.values_list("name", flat=True)) == [WRITER]
    assert not real.groups.filter(name=EDITOR).exists()
    assert not Article.objects.exists()


def test_a_reviewer_profiles_account_cannot_be_reassigned_in_the_admin(client):
    """Reassigning the account would re-attribute every signature made through it."""
    signer = make_physician()
    profile = signer.reviewer_profile
    boss = make_user(None, EDITOR)
    client.force_login(boss)
    url = f"/admin/reviewers/reviewer/{profile.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="user"' not in page
    other = make_user(None, REVIEWER)
    client.post(
        url,
        {
            "user": other.pk,
            "display_name": profile.display_name,
            "credentials": profile.credentials,
            "slug": profile.slug,
            "active": "on",
        },
    )
    assert fresh(profile).user_id == signer.pk


@pytest.mark.parametrize("status", ["superseded", "withdrawn", "approved"])
def test_public_pages_ignore_a_live_revision_that_is_not_in_published_state(client, status):
    scenario = article_in("live")
    url = scenario.article.get_absolute_url()
    assert client.get(url).status_code == 200
    Revision.objects.filter(pk=scenario.article.live_revision_id).update(status=status)
    assert not Article.objects.published().filter(pk=scenario.article.pk).exists()
    assert client.get(url).status_code == 404


def test_last_reviewed_is_the_date_of_the_sign_off_not_of_publication(client):
    """Invariant 5: the public 'Last reviewed' date is the real date of the approval."""
    import json
    import re
    from datetime import timedelta

    from django.utils import timezone

    scenario = article_in("live")
    review = scenario.article.live_revision.approval
    # The article first went live three weeks before this approval was signed.
    earlier = timezone.now() - timedelta(days=21)
    Revision.objects.filter(pk=scenario.article.live_revision_id).update(published_at=earlier)
    Article.objects.filter(pk=scenario.article.pk).update(first_published_at=earlier)

    html = client.get(scenario.article.get_absolute_url()).content.decode()
    signed = timezone.localtime(review.created_at).date().isoformat()
    went_live = timezone.localtime(earlier).date().isoformat()
    assert f'Last reviewed <time datetime="{signed}">' in html
    assert f'Last reviewed <time datetime="{went_live}">' not in html
    data = json.loads(re.search(r'application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["lastReviewed"] == signed
    assert data["datePublished"].startswith(went_live)
