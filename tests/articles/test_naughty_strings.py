"""Every line of a naughty-strings list, published as titles and summaries, through every
public page type, both feeds, the sitemap and the JSON-LD: no 500, valid XML and JSON.

The strings are stored as they are (as older rows or a raw import might hold them), so
the pages prove they cope with anything; the forms' own boundary rule is tested apart.
"""

from __future__ import annotations

import json
import re

import lxml.etree
import pytest
from django.urls import reverse

from articles import feeds
from articles.models import Article, Review, Revision
from clinic_site.text import CleanCharField, strip_controls
from tests.articles.naughty_strings import naughty_strings
from tests.builders import article_in

pytestmark = pytest.mark.django_db

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def publish_many_bypassing_workflow(lines: list[str]) -> list[Article]:
    """One published article per line, copying a revision a physician really approved.

    It writes the published state directly, on purpose: the naughty line must be stored as
    is in places no workflow step takes free text from (the author's byline, the reviewer's
    name, title and certifications, the table of contents) and in fields whose text the
    workflow checks or normalizes first. That state is impossible through the workflow,
    which is tested elsewhere; here only what the public pages make of hostile stored text
    matters."""
    template = article_in("live")
    source, review = template.revision, template.revision.approval
    made = []
    for index, line in enumerate(lines):
        text = line.replace("\x00", "")  # no database stores NUL; forms refuse it
        article = Article.objects.create(
            slug=f"naughty-{index}",
            category=template.article.category,
            author=template.author,
            title=text[:200] or "x",
            summary=text[:400] or "x",
            body=source.body,
        )
        digest = f"{index:064d}"
        revision = Revision.objects.create(
            article=article,
            number=1,
            title=text[:200],
            summary=text,
            body=source.body,
            category=source.category,
            review_interval_days=source.review_interval_days,
            author_name=text[:300],
            rendered_html=source.rendered_html,
            references_html=source.references_html,
            toc=[{"id": "section-x", "name": text, "level": 2}],
            word_count=source.word_count,
            content_hash=digest,
            created_by=template.author,
            status="published",
            published_at=source.published_at,
        )
        approval = Review.objects.create(
            revision=revision,
            reviewer=review.reviewer,
            signed_by=review.signed_by,
            decision="approve",
            revision_hash=digest,
            reviewer_name=text[:200],
            reviewer_credentials="M.D.",
            reviewer_title=text[:200],
            reviewer_certifications=text,
            reviewer_specialties=text,
        )
        Revision.objects.filter(pk=revision.pk).update(approval=approval)
        Article.objects.filter(pk=article.pk).update(
            live_revision=revision, first_published_at=source.published_at
        )
        made.append(article)
    return made


def test_the_list_has_at_least_500_lines_in_the_usual_families():
    lines = naughty_strings()
    assert len(lines) >= 500
    assert any("\x1b" in line for line in lines) and any("<script>" in line for line in lines)


def test_every_public_page_feed_and_sitemap_survives_every_line(client, monkeypatch):
    lines = naughty_strings()
    articles = publish_many_bypassing_workflow(lines)
    assert Article.objects.published().count() == len(lines) + 1
    monkeypatch.setattr(feeds, "FEED_LENGTH", len(lines) + 1)  # every line in the feeds

    for name in ("articles:feed_rss", "articles:feed_atom"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        lxml.etree.fromstring(response.content)  # raises on invalid XML
    sitemap = client.get(reverse("sitemap"))
    assert sitemap.status_code == 200
    lxml.etree.fromstring(sitemap.content)

    for article in articles:
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200, article.slug
        json.loads(JSONLD.search(response.content.decode()).group(1))
    pages = (len(lines) + 1 + 9) // 10
    for page in range(1, pages + 1):
        assert client.get(reverse("articles:home"), {"page": page}).status_code == 200
    first = Article.objects.published().get(pk=articles[0].pk)
    assert client.get(first.live_revision.category.get_absolute_url()).status_code == 200
    assert client.get(reverse("articles:category_index")).status_code == 200
    reviewer = first.live_revision.approval.reviewer
    assert client.get(reviewer.get_absolute_url()).status_code == 200
    for line in lines[::7]:
        assert client.get(reverse("articles:search"), {"q": line}).status_code == 200


def test_feeds_carry_summaries_as_text(client):
    (article,) = publish_many_bypassing_workflow(["<b>Bold</b> & <script>x</script>"])
    rss = client.get(reverse("articles:feed_rss")).content.decode()
    atom = client.get(reverse("articles:feed_atom")).content.decode()
    # RSS readers read <description> as HTML: the markup arrives escaped once more.
    assert "&amp;lt;b&amp;gt;Bold&amp;lt;/b&amp;gt;" in rss
    assert '<summary type="text">&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;' in atom
    assert 'type="html"' not in atom


def test_text_typed_into_a_form_loses_its_control_characters():
    field = CleanCharField()
    assert field.clean("Title \x1b[31m red \x08 and\x0b tab\there\r\nline") == (
        "Title [31m red  and tab\there\nline"
    )
    assert strip_controls("\x85next\x9f") == "next"


def test_the_admin_stores_typed_text_without_control_characters(client):
    from tests.builders import PASSWORD, admin_form_data, change_url, fresh

    s = article_in("draft")
    assert client.login(username=s.author.username, password=PASSWORD)
    page = client.get(change_url(s.article))
    response = client.post(
        change_url(s.article),
        admin_form_data(
            page, title="Bell\x07 and escape\x1b[0m", summary="Back\x08space\x0bvertical"
        ),
    )
    assert response.status_code == 302
    article = fresh(s.article)
    assert (article.title, article.summary) == ("Bell and escape[0m", "Backspacevertical")
