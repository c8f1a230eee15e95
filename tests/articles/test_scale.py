"""What keeps the site usable at 100,000 articles (issue 13, item 3), at a size a test can
hold: public lists that count nothing and stop at a depth, the sitemap index, the admin
changelist's queries and counts, and the expiry rule asked of the database.

The content comes from `manage.py generate_scale_data` (bulk INSERTs, no pandoc: see
tests/articles/test_generate_scale_data.py), a few dozen articles a test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib import admin as django_admin
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles import sitemaps, views
from articles.admin import ESTIMATE_COUNT_ABOVE, EstimatedCountPaginator, estimated_count
from articles.models import Article
from tests.builders import make_superuser
from tests.db_role_plugin import owner_privileges

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(autouse=True)
def _no_stored_pages():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


def generate(articles: int, references: int = 40, **options) -> None:
    call_command(
        "generate_scale_data",
        articles=articles,
        references=references,
        reviewers=3,
        authors=4,
        batch=7,
        i_know=True,
        stdout=open("/dev/null", "w"),  # noqa: SIM115 - the command's progress lines
        **options,
    )
    connection.check_constraints()  # the deferred foreign keys all hold


def fresh_get(client, path: str, params: dict | None = None):
    """A request the view answers (not the public page cache), so its context is there."""
    caches["pages"].clear()
    return client.get(path, params or {})


def _xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own output, under test


def _locations(content: bytes) -> list[str]:
    return [loc.text or "" for loc in _xml(content).iter(f"{SITEMAP}loc")]


# --- Public lists: no count, a page more is one row more, a depth limit ------------------------


@pytest.mark.django_db
def test_list_pages_find_the_next_page_without_counting(client):
    generate(25)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("articles:home"))
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert len(first.context["articles"]) == 10
    assert first.context["page_obj"].has_next()
    assert 'rel="next" href="?page=2"' in first.content.decode()
    last = fresh_get(client, reverse("articles:home"), {"page": 3})
    assert len(last.context["articles"]) == 5
    assert not last.context["page_obj"].has_next()
    text = last.content.decode()
    assert "Page 3<" in text and 'rel="next"' not in text and 'rel="prev" href="?page=2"' in text
    # Every article once, newest first, over the three pages.
    seen = [
        article.pk
        for page in (1, 2, 3)
        for article in fresh_get(client, "/", {"page": page}).context["articles"]
    ]
    assert seen == list(Article.objects.published().values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["4", "0", "-1", "abc", "1.5", "9999999"])
def test_pages_that_do_not_exist_are_404(client, page):
    generate(25)
    assert client.get(reverse("articles:home"), {"page": page}).status_code == 404


@pytest.mark.django_db
def test_lists_stop_at_the_deepest_page_without_asking_the_database(client, monkeypatch):
    generate(25)
    monkeypatch.setattr(views, "MAX_LIST_PAGE", 2)
    second = fresh_get(client, reverse("articles:home"), {"page": 2})
    assert second.status_code == 200
    assert not second.context["page_obj"].has_next()  # more exist, but no link past the limit
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("articles:home"), {"page": 3}).status_code == 404
    assert not [q for q in queries.captured_queries if "articles_article" in q["sql"]]


@pytest.mark.django_db
def test_an_empty_list_is_a_page_not_a_404(client, category):
    assert client.get(reverse("articles:home")).status_code == 200
    assert client.get(category.get_absolute_url()).status_code == 200
    assert client.get(reverse("articles:home"), {"page": 2}).status_code == 404


@pytest.mark.django_db
def test_category_and_reviewer_lists_page_the_same_way(client):
    generate(30)
    article = Article.objects.published().select_related("live_revision__category").first()
    category = article.live_revision.category
    reviewer = article.live_revision.approval.reviewer
    in_category = Article.objects.published().filter(live_revision__category=category)
    response = fresh_get(client, category.get_absolute_url())
    assert [a.pk for a in response.context["articles"]] == list(
        in_category.values_list("pk", flat=True)[:10]
    )
    response = fresh_get(client, reviewer.get_absolute_url())
    by_reviewer = Article.objects.published().filter(live_revision__approval__reviewer=reviewer)
    assert [a.pk for a in response.context["articles"]] == list(
        by_reviewer.values_list("pk", flat=True)[:20]
    )


# --- The sitemap index --------------------------------------------------------------------------


def test_a_sitemap_file_stays_within_the_protocol():
    assert sitemaps.URLS_PER_FILE <= sitemaps.PROTOCOL_MAX_URLS == 50_000


@pytest.mark.django_db
def test_sitemap_is_one_file_while_everything_fits(client, monkeypatch):
    generate(8)
    # Files hold article ids in ranges, and ids keep growing across a test database's life
    # (PostgreSQL's sequences do not roll back): "fits" means the highest id fits.
    highest = Article.objects.order_by("-pk").values_list("pk", flat=True).first()
    monkeypatch.setattr(sitemaps, "URLS_PER_FILE", highest + 100)
    response = client.get(reverse("sitemap"))
    assert _xml(response.content).tag == f"{SITEMAP}urlset"
    urls = _locations(response.content)
    for article in Article.objects.published():
        assert f"http://127.0.0.1:8000{article.get_absolute_url()}" in urls


@pytest.mark.django_db
def test_sitemap_becomes_an_index_past_one_file(client, monkeypatch, settings):
    settings.SITE_URL = "https://clinic.example"
    generate(25)
    # Unpublish one: it must not be listed, and its page is still a page.
    gone = Article.objects.published().order_by("pk")[3]
    Article.objects.filter(pk=gone.pk).update(live_revision=None)
    monkeypatch.setattr(sitemaps, "URLS_PER_FILE", 10)

    index = client.get(reverse("sitemap"))
    assert index.status_code == 200
    assert index["Content-Type"].startswith("application/xml")
    root = _xml(index.content)
    assert root.tag == f"{SITEMAP}sitemapindex"
    files = _locations(index.content)
    highest = Article.objects.published().order_by("-pk").first().pk
    pages = -(-highest // 10)
    assert files == [
        "https://clinic.example/sitemap-home.xml",
        "https://clinic.example/sitemap-articles.xml",
        *[f"https://clinic.example/sitemap-articles.xml?p={n}" for n in range(2, pages + 1)],
        "https://clinic.example/sitemap-categories.xml",
        "https://clinic.example/sitemap-reviewers.xml",
    ]
    listed: list[str] = []
    for location in files:
        path = location.removeprefix("https://clinic.example")
        response = client.get(path)
        assert response.status_code == 200, path
        urls = _locations(response.content)
        assert len(urls) <= 10
        listed += urls
    expected = {
        f"https://clinic.example{a.get_absolute_url()}" for a in Article.objects.published()
    }
    articles = [url for url in listed if "/articles/" in url]
    assert sorted(articles) == sorted(expected)  # each published article exactly once
    assert f"https://clinic.example{gone.get_absolute_url()}" not in listed
    assert "https://clinic.example/" in listed
    assert any("/categories/" in url for url in listed)
    assert any("/reviewers/" in url for url in listed)
    # The index gives each articles file the newest publication as its lastmod.
    lastmods = [e.text for e in root.iter(f"{SITEMAP}lastmod")]
    assert len(lastmods) == pages


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/sitemap-articles.xml?p={beyond}", "/sitemap-articles.xml?p=x", "/sitemap-nothing.xml"],
)
def test_sitemap_pages_that_do_not_exist_are_404(client, monkeypatch, path):
    generate(12)
    monkeypatch.setattr(sitemaps, "URLS_PER_FILE", 5)
    highest = Article.objects.published().order_by("-pk").values_list("pk", flat=True).first()
    beyond = -(-highest // 5) + 1  # the page after the last
    assert client.get(f"/sitemap-articles.xml?p={beyond - 1}").status_code == 200
    assert client.get(path.format(beyond=beyond)).status_code == 404


@pytest.mark.django_db
def test_a_sitemap_page_costs_one_query_for_its_articles(client, monkeypatch):
    generate(25)
    monkeypatch.setattr(sitemaps, "URLS_PER_FILE", 10)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/sitemap-articles.xml?p=2")
    assert response.status_code == 200
    article_queries = [q["sql"] for q in queries.captured_queries if "articles_article" in q["sql"]]
    assert len(article_queries) == 2  # the highest id (how many pages), then the page
    assert not any(re.search(r"\bOFFSET\s+[1-9]", sql) for sql in article_queries)


# --- The admin changelist -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["", "?category__id__exact={category}", "?q=the", "?workflow=live"]
)
def test_changelist_queries_do_not_grow_with_rows(client, monkeypatch, query):
    generate(30)
    busiest = Article.objects.values("category").annotate(n=Count("pk")).order_by("-n").first()
    query = query.format(category=busiest["category"])
    client.force_login(make_superuser())
    model_admin = django_admin.site._registry[Article]
    monkeypatch.setattr(model_admin, "list_per_page", 3)
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("admin:articles_article_changelist") + query)
    shown = len(response.context["cl"].result_list)
    monkeypatch.setattr(model_admin, "list_per_page", 100)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("admin:articles_article_changelist") + query)
    assert len(response.context["cl"].result_list) > shown
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"] for q in many.captured_queries
    ]


@pytest.mark.django_db
def test_changelist_shows_no_whole_table_count(client):
    generate(3)
    client.force_login(make_superuser())
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("admin:articles_article_changelist") + "?q=the")
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "WHERE" in counts[0]  # the filtered count only


@pytest.mark.django_db
def test_changelist_count_is_exact_when_filtered_small_or_not_postgresql():
    generate(5)
    everything = Article.objects.all()
    assert EstimatedCountPaginator(everything.order_by("pk"), 100).count == 5
    assert estimated_count(everything.filter(pk__gt=2)) is None
    assert estimated_count(everything) is None  # SQLite, or a table below the threshold


@pytest.mark.django_db
def test_changelist_count_is_postgresqls_estimate_for_a_large_table(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("pg_class.reltuples is PostgreSQL's")
    generate(5)
    with owner_privileges(), connection.cursor() as cursor:  # only the owner may ANALYZE
        cursor.execute("ANALYZE articles_article")
    from articles import admin as article_admin

    monkeypatch.setattr(article_admin, "ESTIMATE_COUNT_ABOVE", 1)
    everything = Article.objects.order_by("pk")
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(everything, 100).count
    assert count == 5  # ANALYZE just saw every row
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert any("reltuples" in q["sql"] for q in queries.captured_queries)
    # Filtered: counted exactly, whatever the table's size.
    two = list(everything.values_list("pk", flat=True)[:2])
    assert EstimatedCountPaginator(everything.filter(pk__in=two), 100).count == 2
    assert ESTIMATE_COUNT_ABOVE == 10_000


# --- "Review overdue": the expiry rule asked of the database ----------------------------------


@pytest.mark.django_db
def test_the_database_dates_reviews_as_the_expiry_rule_does(client):
    from datetime import timedelta

    from django.db.models import DateTimeField, ExpressionWrapper
    from django.utils import timezone

    from articles import expiry
    from articles.models import Category
    from articles.overdue import overdue

    generate(40)
    # Categories that shorten the interval, clear it, or (written around clean()) lengthen
    # it: the frozen 365 days must still win then.
    intervals = [30, None, 400, 90, 0]
    for category, days in zip(Category.objects.order_by("pk"), intervals, strict=False):
        Category.objects.filter(pk=category.pk).update(review_interval_days=days)
    rows = (
        Article.objects.published()
        .annotate(due=ExpressionWrapper(expiry.review_due_expression(), DateTimeField()))
        .select_related("live_revision__category", "live_revision__approval")
    )
    dues = {}
    for article in rows:
        expected = expiry.review_due_at(article.live_revision)
        assert abs(article.due - expected) < timedelta(seconds=1), article.pk
        dues[article.pk] = expected
    now = timezone.now()
    moments = (now - timedelta(days=3000), now - timedelta(days=400), now, now + timedelta(40))
    for when in moments:
        expected = {pk for pk, due in dues.items() if due <= when}
        assert {a.pk for a in overdue(now=when)} == expected
    # The changelist's filter asks the same, in one query whatever the number overdue.
    client.force_login(make_superuser())
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:articles_article_changelist") + "?workflow=overdue")
    assert response.status_code == 200
    assert response.context["cl"].result_count == len({pk for pk, d in dues.items() if d <= now})
    assert len(queries.captured_queries) < 12
