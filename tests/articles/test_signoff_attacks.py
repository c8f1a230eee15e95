"""The eight paths around the physician's sign-off, each tried end to end as an attacker
would: real logins, the admin's own URLs, then the public pages.

Each test states the attack, then asserts that readers still see exactly what the physician
approved and, for each refusal, that the database did not change.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import Article, AuditEvent, Category, Review, Revision, RevisionStatus
from articles.overdue import overdue_articles
from images.models import StoredImage
from references.models import Reference
from tests.builders import (
    EDITOR,
    PASSWORD,
    REVIEWER,
    WRITER,
    admin_form_data,
    approve,
    approve_data,
    article_in,
    change_url,
    fresh,
    make_article,
    make_category,
    make_physician,
    make_reference,
    make_superuser,
    make_user,
    make_writer,
    messages_of,
    picture,
    review_url,
    snapshot,
    step_url,
    submit,
    upload,
)

pytestmark = pytest.mark.django_db

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def public_html(client, article: Article) -> str:
    client.logout()
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def jsonld(html: str) -> dict:
    return json.loads(JSONLD.search(html).group(1))


def login(client, user: User) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def submit_in_admin(client, article: Article, note: str = "") -> list[str]:
    response = client.post(
        reverse("admin:articles_article_submit", args=[article.pk]),
        {"change_note": note},
        follow=True,
    )
    return messages_of(response)


# --- 1. A picture swapped after publication -----------------------------------------------


def test_1_a_body_image_the_site_does_not_hold_blocks_submission(client, media_root):
    author = make_writer()
    body = "Intro.\n\n![Chart](/media/articles/hero/later.png)\n"
    article = make_article(author, body=body)
    before = snapshot(article)
    login(client, author)
    shown = submit_in_admin(client, article)
    assert any(
        "/media/articles/hero/later.png" in m and "not a picture uploaded" in m for m in shown
    ), shown
    assert snapshot(article) == before  # no revision, no event


def test_1_an_upload_can_never_take_a_name_an_approved_page_points_at(client, media_root):
    s = article_in("live")
    published = public_html(client, s.article)
    login(client, s.author)
    page = client.get(change_url(s.article))
    response = client.post(
        change_url(s.article),
        admin_form_data(
            page,
            hero_image=upload("later.png", picture("PNG")),
            hero_image_alt="A later picture",
        ),
        follow=True,
    )
    assert response.status_code == 200
    name = fresh(s.article).hero_image.name
    stored = StoredImage.objects.get(file=name)
    assert name == f"images/{stored.sha256}.png"
    assert not (media_root / "articles" / "hero" / "later.png").exists()
    assert public_html(client, s.article) == published


# --- 2. Text hidden from the reviewer, shown to readers ----------------------------------


def test_2_hidden_text_has_no_id_and_the_physician_reads_the_public_layout(client):
    body = '<div id="nav-sidebar" class="hidden">take ten times the dose</div>\n\nIntro.\n'
    s = article_in("pending", body=body)
    login(client, s.physician)
    review = client.get(review_url(s.revision)).content.decode()
    # The rendered revision is not inlined into the admin page, where admin CSS could hide
    # parts of it (its Markdown source shows, escaped, in the diff).
    assert "<div>take ten times the dose" not in review
    assert 'id="nav-sidebar">take' not in review
    frame = re.search(r'<iframe class="public-frame" src="([^"]+)" sandbox', review)
    framed = client.get(frame.group(1)).content.decode()
    hidden = re.compile(r"<div>\s*take ten times the dose\s*</div>")
    assert hidden.search(framed)
    response = client.post(step_url("approve", s.revision), approve_data(s.revision))
    assert response.status_code == 302
    workflow.publish(revision=fresh(s.revision), actor=s.editor)
    html = public_html(client, s.article)
    assert hidden.search(html)
    assert 'id="nav-sidebar"' not in html and 'class="hidden"' not in html


# --- 3. Approving your own words through a reference -------------------------------------


def test_3_whoever_edits_a_cited_reference_may_not_approve_the_article(
    client, django_capture_on_commit_callbacks
):
    dual = make_user("dual", WRITER, REVIEWER, reviewer="active", first_name="Dee")
    other_physician = make_physician()
    reference = make_reference("parker2019", title="Emotional intimacy, original title")
    author = make_writer()
    article = make_article(author, body="Intimacy matters [@parker2019].\n")

    login(client, dual)
    url = reverse("admin:references_reference_change", args=[reference.pk])
    page = client.get(url)
    response = client.post(url, admin_form_data(page, title="A title the dual wrote"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert fresh(reference).title == "A title the dual wrote"

    login(client, author)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert any("Submitted" in m for m in submit_in_admin(client, fresh(article)))
    revision = Revision.objects.get(article=article)
    assert dual.pk in set(revision.contributors.values_list("pk", flat=True))
    asked = {address for message in mail.outbox for address in message.to}
    assert dual.email not in asked and other_physician.email in asked

    login(client, dual)
    home = client.get(reverse("admin:index")).content.decode()
    queue = home[home.index("<h2>Waiting for my review</h2>") :]
    queue = queue[: queue.index("</ul>")]
    assert review_url(revision) not in queue  # not in the dual's review queue
    page = client.get(review_url(revision)).content.decode()
    assert "Approve this revision" not in page and "cited references" in page
    before = snapshot(article)
    response = client.post(step_url("approve", revision), approve_data(revision))
    assert response.status_code == 403
    assert snapshot(article) == before
    assert not Review.objects.filter(revision=revision).exists()

    login(client, other_physician)
    client.post(step_url("approve", revision), approve_data(revision))
    assert fresh(revision).status == RevisionStatus.APPROVED


# --- 4. Category outside review ------------------------------------------------------------


def test_4_moving_a_live_article_changes_nothing_public_until_reviewed(client, settings):
    settings.REVIEW_INTERVAL_DAYS = 365
    monthly = make_category(name="Dosing", slug="dosing", review_interval_days=30)
    yearly = make_category(name="Anatomy", slug="anatomy", review_interval_days=365)
    author = make_writer()
    article = make_article(author, category=monthly)
    revision = submit(article)
    doctor = make_physician()
    approve(revision, doctor)
    workflow.publish(revision=fresh(revision), actor=make_user(None, EDITOR))
    published = public_html(client, article)
    later = timezone.now() + timedelta(days=40)
    assert [a.pk for a in overdue_articles(now=later)] == [article.pk]
    events = AuditEvent.objects.count()

    login(client, author)
    page = client.get(change_url(article))
    client.post(change_url(article), admin_form_data(page, category=str(yearly.pk)))
    assert fresh(article).category_id == yearly.pk  # the working copy moved...
    assert public_html(client, article) == published  # ...the public did not
    assert article.title not in client.get(yearly.get_absolute_url()).content.decode()
    assert article.title in client.get(monthly.get_absolute_url()).content.decode()
    assert (
        "<category>Dosing</category>" in client.get(reverse("articles:feed_rss")).content.decode()
    )
    assert [a.pk for a in overdue_articles(now=later)] == [article.pk]  # still expires

    # An editor clearing the monthly interval does not revive the approval either.
    login(client, make_superuser())
    url = reverse("admin:articles_category_change", args=[monthly.pk])
    page = client.get(url)
    client.post(url, admin_form_data(page, review_interval_days=""))
    assert Category.objects.get(pk=monthly.pk).review_interval_days is None
    assert [a.pk for a in overdue_articles(now=later)] == [article.pk]
    assert not workflow.approval_is_current(fresh(revision), now=later)
    assert AuditEvent.objects.count() == events  # nothing happened that needs recording


# --- 5. The reviewer card is live ----------------------------------------------------------


def test_5_the_reviewer_card_is_the_one_signed(client, media_root):
    s = article_in("live")
    profile = s.physician.reviewer_profile
    login(client, make_superuser())
    url = reverse("admin:reviewers_reviewer_change", args=[profile.pk])
    page = client.get(url)
    response = client.post(
        url,
        admin_form_data(
            page,
            board_certifications="Board certified in something new",
            specialties="A specialty added later",
            title="Promoted after signing",
            photo=upload("me.png", picture("PNG")),
            photo_alt="A new portrait",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert fresh(profile).specialties == "A specialty added later"
    html = public_html(client, s.article)
    for later in ("something new", "added later", "Promoted after signing", "A new portrait"):
        assert later not in html
    data = jsonld(html)["reviewedBy"]
    assert data["jobTitle"] == "Staff Physician"
    assert "knowsAbout" not in data
    assert all(c["credentialCategory"] == "degree" for c in data["hasCredential"])


# --- 6. Who did what can be rewritten ------------------------------------------------------


def test_6_renaming_accounts_rewrites_nothing_recorded(client):
    s = article_in("approved")
    author_name, doctor_name = s.author.username, s.physician.username
    admin = make_superuser()
    login(client, admin)
    for user, new_name in (
        (s.author, "tmp-swap"),
        (s.physician, author_name),
        (s.author, doctor_name),
    ):
        url = reverse("admin:auth_user_change", args=[user.pk])
        page = client.get(url)
        response = client.post(url, admin_form_data(page, username=new_name))
        assert response.status_code == 302, response.content.decode()[:3000]
    assert fresh(s.physician).username == author_name  # the swap happened

    events = {e.action: e for e in AuditEvent.objects.filter(article=s.article)}
    assert events["approved"].actor_username == doctor_name
    assert events["submitted"].actor_username == author_name
    assert fresh(s.revision).approval.signed_by_username == doctor_name
    page = client.get(review_url(s.revision)).content.decode()
    trail = page[page.index('id="audit-heading"') :]
    approved_row = next(r for r in trail.split("<tr>") if "Approved" in r)
    assert doctor_name in approved_row and f"({author_name})" not in approved_row


# --- 7. History is a hash chain: tampering shows ------------------------------------------
# (The database role's missing privileges are tested in tests/site/test_db_role.py.)


def test_7_verify_audit_names_a_backdated_approval_event(client):
    from django.core.management import CommandError, call_command

    s = article_in("live")
    call_command("verify_audit", stdout=open("/dev/null", "w"))  # noqa: SIM115
    last = AuditEvent.objects.order_by("-pk").first()
    forged = AuditEvent.objects.append(
        actor=s.physician,
        action="approved",
        article=s.article,
        revision=s.revision,
        content_hash=s.revision.content_hash,
        created_at=last.created_at - timedelta(days=30),
    )
    with pytest.raises(CommandError, match=f"Audit event {forged.pk} is dated before"):
        call_command("verify_audit")
    login(client, make_superuser())
    home = client.get(reverse("admin:index")).content.decode()
    assert "failed verification" in home and f"Audit event {forged.pk}" in home


# --- 8. Hero images go out as uploaded -----------------------------------------------------
# End-to-end upload tests (GPS, comments, bombs, sizes, real formats) are in tests/images.


def test_8_a_hero_upload_through_the_admin_is_reencoded_and_named_by_its_format(client, media_root):
    from tests.builders import jpeg_with_secrets

    s = article_in("draft")
    login(client, s.author)
    page = client.get(change_url(s.article))
    response = client.post(
        change_url(s.article),
        admin_form_data(
            page, hero_image=upload("doc.pdf", jpeg_with_secrets()), hero_image_alt="A photo"
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    name = fresh(s.article).hero_image.name
    assert name.endswith(".jpeg") or name.endswith(".jpg")
    stored = (media_root / name).read_bytes()
    assert b"Jane Doe" not in stored and b"GPS" not in stored
    assert Reference.objects.count() == 0  # nothing else was touched
