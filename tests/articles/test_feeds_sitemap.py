"""RSS, Atom and sitemap.xml: published articles only, on their live revision."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Category, Revision
from articles.workflow import unpublish

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own output, under test


@pytest.fixture
def updated_article(published_article, make_published):
    """Published 40 days ago, updated today with a second approved revision."""
    earlier = timezone.now() - timedelta(days=40)
    Article.objects.filter(pk=published_article.pk).update(first_published_at=earlier)
    Revision.objects.filter(pk=published_article.live_revision_id).update(published_at=earlier)
    return make_published(
        article=Article.objects.get(pk=published_article.pk),
        title="Couples therapy, revised",
        summary="The revised summary.",
        body="## Revised\n\nRevised body.",
        change_note="Revised.",
    )


def test_rss_feed(client, updated_article, make_article):
    make_article(slug="draft", title="Draft never in feeds")
    response = client.get(reverse("articles:feed_rss"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = _xml(response.content).find("channel")
    assert channel.findtext("link") == "http://127.0.0.1:8000/"
    items = channel.findall("item")
    assert len(items) == 1
    item = items[0]
    assert item.findtext("title") == "Couples therapy, revised"
    assert item.findtext("description") == "The revised summary."
    assert item.findtext("link") == "http://127.0.0.1:8000/articles/couples-therapy-intimacy/"
    assert item.findtext("category") == "Relationships"
    first = Article.objects.get(pk=updated_article.pk).first_published_at
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(item.findtext("pubDate")) == first.replace(microsecond=0)
    assert b"Draft never in feeds" not in response.content


def test_atom_feed_published_and_updated(client, updated_article):
    response = client.get(reverse("articles:feed_atom"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = _xml(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.findtext(f"{ATOM}title") == "Couples therapy, revised"
    assert entry.findtext(f"{ATOM}summary") == "The revised summary."
    published = entry.findtext(f"{ATOM}published")
    updated = entry.findtext(f"{ATOM}updated")
    article = Article.objects.get(pk=updated_article.pk)
    assert published[:10] == article.first_published_at.astimezone(UTC).date().isoformat()
    assert updated[:10] == article.live_revision.published_at.astimezone(UTC).date().isoformat()
    assert published != updated
    assert entry.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Wendy Writer"
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link[0].get("href") == "http://127.0.0.1:8000/feed/atom/"


def test_feeds_without_articles(client, db):
    for name in ("articles:feed_rss", "articles:feed_atom"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        root = _xml(response.content)
        entries = root.findall(".//item") + root.findall(".//{http://www.w3.org/2005/Atom}entry")
        assert entries == []
        assert "Mental Health Center" in response.content.decode()


def test_feed_is_capped_and_newest_first(client, make_published):
    for n in range(22):
        make_published(slug=f"piece-{n:02d}", title=f"Piece {n:02d}")
    channel = _xml(client.get(reverse("articles:feed_rss")).content).find("channel")
    titles = [item.findtext("title") for item in channel.findall("item")]
    assert len(titles) == 20
    assert titles[0] == "Piece 21"


def _sitemap(client) -> dict[str, str | None]:
    response = client.get(reverse("sitemap"))
    assert response.status_code == 200
    root = _xml(response.content)
    return {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.findall(f"{SITEMAP}url")
    }


def test_sitemap_lists_home_articles_categories_reviewers(
    client, updated_article, make_article, editor, make_published, reviewer_profile
):
    Category.objects.create(name="Empty", slug="empty")
    make_article(slug="draft-only")
    gone = make_published(slug="gone")
    unpublish(article=gone, actor=editor, comment="Pause.")
    urls = _sitemap(client)
    base = "http://127.0.0.1:8000"
    article = Article.objects.get(pk=updated_article.pk)
    assert f"{base}/" in urls
    assert urls[f"{base}/articles/couples-therapy-intimacy/"] == (
        timezone.localtime(article.live_revision.published_at).date().isoformat()
    )
    assert f"{base}/categories/relationships/" in urls
    assert f"{base}/reviewers/mark-hrymoc/" in urls
    assert f"{base}/categories/empty/" not in urls
    assert f"{base}/articles/draft-only/" not in urls
    assert f"{base}/articles/gone/" not in urls
    assert len(urls) == 4


def test_sitemap_uses_the_canonical_site_url(client, published_article, settings):
    settings.SITE_URL = "https://articles.clinic.example"
    urls = _sitemap(client)
    assert "https://articles.clinic.example/articles/couples-therapy-intimacy/" in urls
    assert all(url.startswith("https://articles.clinic.example/") for url in urls)
