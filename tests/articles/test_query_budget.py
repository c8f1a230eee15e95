"""Query budgets for anonymous readers: a fixed, small number of queries per page, the same
for one article as for many; nothing rendered per request that a revision already stores;
and no session lookups for readers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Article
from tests.builders import PASSWORD, make_category, make_editor, make_physician

BUDGET = 4


def _body(n: int, keys: list[str]) -> str:
    cites = "; ".join(f"@{key}" for key in keys)
    return (
        f"## Overview {n}\n\nSleep matters for mood [{cites}].\n\n"
        f"## Causes {n}\n\nStress and habits [@{keys[0]}].\n\n"
        f"## Treatment {n}\n\nTherapy helps [@{keys[-1]}].\n"
    )


@pytest.fixture(params=["one article", "fifteen articles"])
def site(request, make_published, make_reference, category):
    """Content of two sizes: the page budgets must not grow with it."""
    if request.param == "one article":
        make_reference("solo2020", title="A single source")
        article = make_published(slug="target", title="Sleep target", body=_body(0, ["solo2020"]))
        return {"article": article, "category": category, "reviewer": "mark-hrymoc"}

    from articles.workflow import approve, publish, submit_for_review

    second = make_physician(
        "physician2",
        display_name="Ada Lovelace",
        credentials="M.D.",
        title="Psychiatrist",
        board_certifications="Psychiatry",
        specialties="Sleep",
        slug="ada-lovelace",
    )
    categories = [category] + [
        make_category(name=f"Topic {n}", slug=f"topic-{n}") for n in range(3)
    ]
    keys = [make_reference(f"ref{n:02d}", title=f"Source {n}").key for n in range(12)]
    target = None
    for n in range(15):
        article = make_published(
            slug="target" if n == 0 else f"piece-{n:02d}",
            title=f"Sleep piece {n:02d}",
            body=_body(n, keys[n % 10 : n % 10 + 3]),
            category=categories[n % 4],
            change_note=f"Version one of {n}.",
        )
        if n == 0:
            target = article
    # The target gets two more published revisions (a longer update history), the second
    # approved by the other reviewer; some others are approved by them as well.
    editor = make_editor("editor-b")
    writer = Article.objects.get(pk=target.pk).author
    for version, reviewer_user in ((2, second), (3, second)):
        article = Article.objects.get(pk=target.pk)
        article.body += f"\n\nAddendum {version}."
        article.save()
        revision = submit_for_review(article=article, actor=writer, change_note=f"v{version}")
        approve(
            revision=revision,
            actor=reviewer_user,
            password=PASSWORD,
            attestation_accepted=True,
            seen_hash=revision.content_hash,
        )
        publish(revision=revision, actor=editor)
    return {"article": target, "category": category, "reviewer": "ada-lovelace"}


def _pages(site) -> dict[str, str]:
    return {
        "article": reverse("articles:detail", kwargs={"slug": "target"}),
        "home": reverse("articles:home"),
        "category index": reverse("articles:category_index"),
        "category": reverse("articles:category", kwargs={"slug": site["category"].slug}),
        "reviewer index": reverse("reviewers:index"),
        "reviewer": reverse("reviewers:detail", kwargs={"slug": site["reviewer"]}),
        "search": reverse("articles:search") + "?q=sleep",
        "search, no query": reverse("articles:search"),
        "rss": reverse("articles:feed_rss"),
        "atom": reverse("articles:feed_atom"),
    }


@pytest.mark.parametrize(
    "page",
    [
        "article",
        "home",
        "category index",
        "category",
        "reviewer index",
        "reviewer",
        "search",
        "search, no query",
        "rss",
        "atom",
    ],
)
def test_page_stays_within_budget(client, site, page, django_assert_max_num_queries, request):
    url = _pages(site)[page]
    client.get(url)  # warm caches that are per process, not per request (content types…)
    with django_assert_max_num_queries(BUDGET) as captured:
        response = client.get(url)
    assert response.status_code == 200
    # A page that lost its content would pass any budget: check it still shows the article.
    title = Article.objects.get(pk=site["article"].pk).live_revision.title
    content = response.content.decode()
    if page in ("article", "home", "category", "reviewer", "rss", "atom"):
        assert title in content
    elif page == "search":
        assert "Sleep piece" in content or title in content
    size = request.node.callspec.params["site"]
    print(f"\n{page} [{size}]: {len(captured.captured_queries)} queries")  # noqa: T201


def test_article_page_renders_nothing_a_revision_stores(client, site, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the public page must not render Markdown or citations")

    monkeypatch.setattr("articles.rendering.render_article", refuse)
    monkeypatch.setattr("articles.rendering.run_pandoc", refuse)
    monkeypatch.setattr("markdown.Markdown.convert", refuse)
    for url in _pages(site).values():
        assert client.get(url).status_code == 200, url


def test_anonymous_readers_never_touch_the_session_table(client, site):
    # Even a stale session cookie (a reader who once logged in) causes no session lookup.
    client.cookies["sessionid"] = "stale0000000000000000000000000000"
    for name, url in _pages(site).items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, name
        sessions = [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]
        assert not sessions, name
        assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value
        assert "csrftoken" not in response.cookies, name
        assert "Cookie" not in response.get("Vary", ""), name
