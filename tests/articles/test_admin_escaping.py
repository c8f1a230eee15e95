"""Staff pages show what writers and reviewers typed as text, never as markup: a writer's
`<script>` must not run in a physician's or editor's browser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles import workflow
from articles.models import Article
from tests.builders import (
    approve_data,
    change_url,
    make_article,
    make_category,
    make_physician,
    make_writer,
    messages_of,
    review_url,
    step_url,
)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src=x onerror="alert(1)">'


@pytest.fixture
def hostile(stored_picture):
    """A pending revision whose every text field carries markup."""
    author = make_writer()
    # A body image must be one the site stores; its event handler is still hostile.
    own_image = f'<img src="{stored_picture().url}" onerror="alert(1)">'
    article = make_article(
        author,
        title=f"Title {SCRIPT}",
        summary=f"Summary {IMG}",
        body=f"Body {SCRIPT}\n\n{own_image}\n\n[Click](javascript:alert(1))\n",
        category=make_category(name=f"Cat {SCRIPT}"),
    )
    revision = workflow.submit_for_review(
        article=article, actor=author, change_note=f"Note {SCRIPT}"
    )
    return author, article, revision


def assert_inert(html: str) -> None:
    assert SCRIPT not in html
    assert "<img src=x onerror" not in html
    assert 'onerror="alert(1)"' not in html
    assert 'href="javascript:' not in html


def test_review_page_shows_hostile_text_inert(client, hostile):
    _, _, revision = hostile
    doctor = make_physician()
    client.force_login(doctor)
    response = client.get(review_url(revision))
    assert response.status_code == 200
    html = response.content.decode()
    assert_inert(html)
    assert "&lt;script&gt;" in html  # shown, as text
    assert_inert(client.get(revision.preview_url()).content.decode())  # the framed page


def test_reviewer_comment_and_conflict_of_interest_are_inert_on_the_review_page(client, hostile):
    _, _, revision = hostile
    doctor = make_physician()
    client.force_login(doctor)
    response = client.post(
        step_url("approve", revision),
        approve_data(revision, comment=f"OK {SCRIPT}", conflict_of_interest=f"None {IMG}"),
        follow=True,
    )
    assert "You approved revision 1." in messages_of(response)
    html = client.get(review_url(revision)).content.decode()
    assert_inert(html)


def test_admin_home_queue_shows_hostile_titles_inert(client, hostile):
    client.force_login(make_physician())
    html = client.get(reverse("admin:index")).content.decode()
    assert "Waiting for my review" in html
    assert_inert(html)
    assert "Title &lt;script&gt;" in html


def test_article_change_page_and_changelist_are_inert(client, hostile):
    author, article, _ = hostile
    client.force_login(author)
    assert_inert(client.get(change_url(article)).content.decode())
    assert_inert(client.get(reverse("admin:articles_article_changelist")).content.decode())
    assert_inert(client.get(reverse("admin:articles_revision_changelist")).content.decode())
    assert_inert(client.get(reverse("admin:articles_auditevent_changelist")).content.decode())


def test_unknown_key_with_angle_brackets_is_escaped_on_the_page_and_in_the_message(client):
    # Pandoc keys may contain < and > inside; such a key is shown, never interpreted.
    author = make_writer()
    article = make_article(author, body="Claim [@x<b>y].\n")
    article = Article.objects.get(pk=article.pk)
    assert article.unknown_citation_keys == ["x<b>y"]
    client.force_login(author)
    page = client.get(change_url(article)).content.decode()
    assert "x&lt;b&gt;y" in page
    assert "x<b>y" not in page
    response = client.post(
        reverse("admin:articles_article_submit", args=[article.pk]), {}, follow=True
    )
    (message,) = messages_of(response)
    assert "x<b>y" in message and "line 1" in message
    assert "x<b>y" not in response.content.decode()
    assert "x&lt;b&gt;y" in response.content.decode()
