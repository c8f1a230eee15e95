"""Invariant 1, swept over EVERY public URL: the public only ever sees approved text.

The content has one marker word per state, so a leak anywhere (list, page, search, feed,
sitemap) shows up as the marker in the response:

- LIVE: the approved, published revision of an article (must appear where it is listed);
- PENDING: a newer revision of that same article, submitted but not approved;
- WORKING: the same article's working copy, edited after that submission;
- DRAFT: an article that was never approved (its revision waits for review);
- UNAPPROVED: an article whose only revision had changes requested;
- APPROVED: an article approved but not (yet) published;
- GONE: an article that was published and then unpublished.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles.models import Article
from articles.workflow import publish, request_changes, unpublish
from tests.builders import approve, submit

LIVE = "livemarkerokapi"
PENDING = "pendingmarkerxyq"
WORKING = "workingmarkerjkw"
DRAFT = "draftmarkerzuv"
UNAPPROVED = "unapprovedmarkerqox"
APPROVED = "approvedmarkerpyh"
GONE = "gonemarkerwuf"
NEVER_PUBLIC = (PENDING, WORKING, DRAFT, UNAPPROVED, APPROVED, GONE)


def _fields(marker: str) -> dict:
    return {
        "title": f"Sleep and anxiety {marker}title",
        "summary": f"What helps when worry keeps you awake {marker}summary.",
        "body": f"## Sleep\n\nA calm routine helps {marker}body.\n",
    }


@pytest.fixture
def content(make_article, make_published, physician, editor, category):
    live = make_published(slug="live-article", **_fields(LIVE))
    # A newer revision of the live article waits for review; the working copy moves on.
    make_article(article=live, **_fields(PENDING))
    submit(live, note=f"Rewrite {PENDING}note")
    make_article(article=Article.objects.get(pk=live.pk), **_fields(WORKING))

    draft = make_article(slug="draft-article", **_fields(DRAFT))
    submit(draft)

    unapproved = make_article(slug="unapproved-article", **_fields(UNAPPROVED))
    request_changes(revision=submit(unapproved), actor=physician, comment="Needs sources.")

    approved = make_article(slug="approved-article", **_fields(APPROVED))
    approve(submit(approved), physician)

    gone = make_published(slug="gone-article", **_fields(GONE))
    unpublish(article=gone, actor=editor, comment="Pause.")
    return {"live": live, "gone": gone}


def _public_urls(reviewer_slug: str, category_slug: str) -> dict[str, str]:
    urls = {
        "home": reverse("articles:home"),
        "article": reverse("articles:detail", kwargs={"slug": "live-article"}),
        "category index": reverse("articles:category_index"),
        "category": reverse("articles:category", kwargs={"slug": category_slug}),
        "reviewer index": reverse("reviewers:index"),
        "reviewer": reverse("reviewers:detail", kwargs={"slug": reviewer_slug}),
        "rss": reverse("articles:feed_rss"),
        "atom": reverse("articles:feed_atom"),
        "sitemap": reverse("sitemap"),
        "search common word": reverse("articles:search") + "?q=sleep",
        "search live marker": reverse("articles:search") + f"?q={LIVE}title",
    }
    for marker in NEVER_PUBLIC:
        for part in ("title", "summary", "body"):
            urls[f"search {marker}{part}"] = reverse("articles:search") + f"?q={marker}{part}"
    return urls


def test_every_public_url_shows_only_approved_live_text(
    client, content, reviewer_profile, category
):
    seen_live = set()
    for name, url in _public_urls(reviewer_profile.slug, category.slug).items():
        response = client.get(url)
        assert response.status_code == 200, name
        text = response.content.decode()
        if name.startswith("search "):
            query = response.context["query"]
            if any(marker in query for marker in NEVER_PUBLIC):
                assert response.context["page_obj"].paginator.count == 0, name
            text = text.replace(query, "")  # the search page repeats what was asked
        for marker in NEVER_PUBLIC:
            assert marker not in text, f"{marker} leaked on {name} ({url})"
        if LIVE in text:
            seen_live.add(name)
    # The approved text of the live article is still what readers get.
    assert seen_live >= {
        "home",
        "article",
        "category",
        "reviewer",
        "rss",
        "atom",
        "search common word",
        "search live marker",
    }


def test_article_page_shows_the_approved_revision_not_the_newer_one(client, content):
    page = client.get(reverse("articles:detail", kwargs={"slug": "live-article"})).content.decode()
    assert f"Sleep and anxiety {LIVE}title" in page
    assert f"{LIVE}summary" in page
    assert f"{LIVE}body" in page
    assert PENDING not in page and WORKING not in page


@pytest.mark.parametrize(
    "slug", ["draft-article", "unapproved-article", "approved-article", "gone-article"]
)
def test_articles_that_are_not_live_are_404(client, content, slug):
    response = client.get(reverse("articles:detail", kwargs={"slug": slug}))
    assert response.status_code == 404


def test_unpublished_article_disappears_from_lists_feeds_and_sitemap(client, content):
    gone_url = reverse("articles:detail", kwargs={"slug": "gone-article"})
    for url in (
        reverse("articles:home"),
        reverse("articles:feed_rss"),
        reverse("articles:feed_atom"),
        reverse("sitemap"),
        reverse("articles:search") + "?q=sleep",
    ):
        assert gone_url not in client.get(url).content.decode(), url


def test_search_for_the_pending_text_finds_nothing(client, content):
    response = client.get(reverse("articles:search"), {"q": f"{PENDING}body"})
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 0


def test_editing_a_cited_reference_does_not_change_the_live_page(
    client, published_article, make_reference
):
    from references.models import Reference

    url = published_article.get_absolute_url()
    before = client.get(url).content.decode()
    assert "Emotional intimacy as the foundation of sexual satisfaction" in before
    # The real path: a save, which signals the citing articles to refresh their hash.
    reference = Reference.objects.get(key="parker2019")
    reference.title = "Edited after approval zqxref"
    reference.save()
    after = client.get(url).content.decode()
    assert "zqxref" not in after
    assert "Emotional intimacy as the foundation of sexual satisfaction" in after
    # Staff see that the working copy now differs from what the physician approved.
    published_article.refresh_from_db()
    assert published_article.working_hash != published_article.live_revision.content_hash


def test_publishing_the_newer_revision_replaces_the_old_text_everywhere(
    client, content, physician, editor
):
    live = content["live"]
    pending = live.revisions.order_by("-number").first()
    approve(pending, physician)
    publish(revision=pending, actor=editor)
    page = client.get(live.get_absolute_url()).content.decode()
    assert f"{PENDING}title" in page and f"{PENDING}body" in page
    assert f"{LIVE}title" not in page
    assert WORKING not in page
    home = client.get(reverse("articles:home")).content.decode()
    assert f"{PENDING}title" in home and f"{LIVE}title" not in home
