"""Whole public pages from the cache (pagecache/): what a hit skips, what retires a page,
who is never served from the cache, and the HTTP validators a CDN relies on."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import Category
from pagecache import version
from reviewers.models import Reviewer
from tests.builders.content import approve, edit, fresh, submit
from tests.builders.people import make_physician
from tests.builders.states import article_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_page_cache():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def live():
    return article_in("live")


def _get(client: Client, url: str, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, len(queries)


def _page_text(response) -> str:
    return response.content.decode()


# --- A hit -------------------------------------------------------------------------------


def test_a_hit_reads_one_row_and_renders_no_template(client, live):
    url = live.article.get_absolute_url()
    first, first_queries = _get(client, url)
    second, second_queries = _get(client, url)

    assert first["X-Page-Cache"] == "miss" and first.templates
    assert second["X-Page-Cache"] == "hit"
    assert second_queries == 1  # the public version; no ORM query, no template
    assert not second.templates
    assert second.content == first.content
    assert first_queries > second_queries


@pytest.mark.parametrize(
    "url_name", ["articles:home", "articles:category_index", "reviewers:index", "sitemap"]
)
def test_every_list_page_is_served_from_the_cache(client, live, url_name):
    url = reverse(url_name)
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_a_hit_keeps_the_security_headers_the_page_was_stored_with(client, live):
    url = live.article.get_absolute_url()
    stored = client.get(url)
    hit = client.get(url)
    for header in ("Content-Security-Policy", "Permissions-Policy", "X-Frame-Options"):
        assert hit[header] == stored[header]


def test_head_is_answered_from_the_stored_page_without_a_body(client, live):
    url = live.article.get_absolute_url()
    page = client.get(url)
    head = client.head(url)
    assert head["X-Page-Cache"] == "hit"
    assert head.content == b""
    assert head["ETag"] == page["ETag"]


# --- What retires a page -----------------------------------------------------------------


def test_unpublishing_retires_the_article_page_and_the_lists(client, live):
    url = live.article.get_absolute_url()
    client.get(url), client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"

    workflow.unpublish(article=live.article, actor=live.editor, comment="Outdated dosing.")

    assert client.get(url).status_code == 404
    home = client.get("/")
    assert home["X-Page-Cache"] == "miss"
    assert live.article.get_absolute_url() not in _page_text(home)


def test_publishing_a_new_revision_shows_it_at_once(client, live):
    url = live.article.get_absolute_url()
    client.get(url)
    article = fresh(live.article)
    article.title = "A retitled article"
    workflow.save_working_copy(article=article, actor=live.author, expected_version=article.version)
    revision = submit(article)
    approve(revision, live.physician)

    # Neither a saved draft nor a submission nor an approval changes what readers see.
    assert client.get(url)["X-Page-Cache"] == "hit"

    workflow.publish(revision=revision, actor=live.editor)
    page = client.get(url)
    assert page["X-Page-Cache"] == "miss"
    assert "A retitled article" in _page_text(page)


def test_a_scheduled_publication_shows_when_it_goes_live(client):
    story = article_in("scheduled")
    client.get("/")
    publish_at = story.revision.publish_at
    workflow.publish_due(now=publish_at + timedelta(seconds=1))
    home = client.get("/")
    assert home["X-Page-Cache"] == "miss"
    assert story.article.get_absolute_url() in _page_text(home)


def test_renaming_a_category_retires_the_pages_that_name_it(client, live):
    url = live.article.get_absolute_url()
    client.get(url)
    category = Category.objects.get(pk=live.revision.category_id)
    category.name = "Renamed category"
    category.save()
    page = client.get(url)
    assert page["X-Page-Cache"] == "miss"
    assert "Renamed category" in _page_text(page)


def test_editing_a_reviewer_profile_retires_their_page(client, live):
    reviewer = Reviewer.objects.get(user=live.physician)
    url = reviewer.get_absolute_url()
    client.get(url)
    reviewer.bio = "Thirty years of practice in adult psychiatry."
    reviewer.save()
    page = client.get(url)
    assert page["X-Page-Cache"] == "miss"
    assert "Thirty years of practice" in _page_text(page)


def test_deactivating_a_reviewer_account_retires_the_reviewer_list(client):
    physician = make_physician()
    reviewer = Reviewer.objects.get(user=physician)
    assert reviewer.get_absolute_url() in _page_text(client.get(reverse("reviewers:index")))
    physician.is_active = False
    physician.save()
    listing = client.get(reverse("reviewers:index"))
    assert listing["X-Page-Cache"] == "miss"
    assert reviewer.get_absolute_url() not in _page_text(listing)


def test_a_change_made_in_sql_retires_pages_too(client, live):
    """By construction: the triggers see every write, not only the workflow's."""
    url = live.article.get_absolute_url()
    client.get(url)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE articles_article SET live_revision_id = NULL WHERE id = %s", [live.article.pk]
        )
    assert client.get(url).status_code == 404


def test_saving_a_draft_leaves_the_cache_alone(client, live):
    before = version.current()
    url = live.article.get_absolute_url()
    client.get(url)
    edit(live.article)
    assert version.current() == before
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_a_rolled_back_change_retires_nothing(client, live):
    url = live.article.get_absolute_url()
    client.get(url)
    before = version.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.unpublish(article=live.article, actor=live.editor, comment="Mistake.")
        raise RuntimeError("the step's transaction fails after the write")
    assert version.current() == before
    page = client.get(url)
    assert page.status_code == 200 and page["X-Page-Cache"] == "hit"


def test_a_lost_version_row_starts_a_new_version(client, live):
    url = live.article.get_absolute_url()
    client.get(url)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pagecache_publicversion")
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"


# --- Who is never served from the cache --------------------------------------------------


def test_a_logged_in_reader_is_neither_served_from_nor_stored_in_the_cache(client, live):
    url = live.article.get_absolute_url()
    staff = Client()
    staff.force_login(live.editor)

    as_staff = staff.get(url)
    assert as_staff["X-Page-Cache"] == "bypass" and as_staff.templates
    assert "private" in as_staff["Cache-Control"]
    # Nothing was stored for the anonymous reader who comes next.
    assert client.get(url)["X-Page-Cache"] == "miss"
    # And a stored page is not what staff get.
    again = staff.get(url)
    assert again["X-Page-Cache"] == "bypass" and again.templates


def test_a_preview_for_staff_is_never_cached(client, live):
    staff = Client()
    staff.force_login(live.editor)
    url = reverse(
        "articles:revision_preview",
        kwargs={"slug": live.article.slug, "number": live.revision.number},
    )
    response = staff.get(url)
    assert response.status_code == 200
    assert "X-Page-Cache" not in response
    assert "no-cache" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_made_up_query_parameters_are_answered_but_never_stored(client, live):
    for query in ("?utm_source=newsletter", "?page=1&x=2", "?page=9999999", "?page=abc"):
        response = client.get("/" + query)
        assert response.get("X-Page-Cache") in {None, "uncached"}, query
    assert client.get("/?page=1")["X-Page-Cache"] == "miss"


def test_search_results_are_never_stored(client, live):
    url = reverse("articles:search") + "?q=intimacy"
    assert client.get(url)["X-Page-Cache"] == "uncached"
    assert client.get(url)["X-Page-Cache"] == "uncached"


@pytest.mark.urls("tests.pagecache.views_for_tests")
@pytest.mark.parametrize("url", ["/cookie/", "/varies/"])
def test_a_page_that_depends_on_the_reader_is_not_stored(client, url):
    from tests.pagecache import views_for_tests

    views_for_tests.calls.clear()
    first, second = client.get(url), client.get(url)
    assert len(views_for_tests.calls) == 2  # the view ran both times
    assert second["X-Page-Cache"] == "uncached"
    assert first.content == second.content


@pytest.mark.urls("tests.pagecache.views_for_tests")
def test_an_unmarked_view_is_passed_through_untouched(client, django_assert_num_queries):
    with django_assert_num_queries(0):  # not even the public version is read
        response = client.get("/unmarked/")
    assert "ETag" not in response and "X-Page-Cache" not in response


def test_robots_txt_and_static_files_never_read_the_version(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/robots.txt").status_code == 200


def test_a_not_found_page_is_not_stored(client, live):
    assert client.get("/articles/no-such-article/").status_code == 404
    assert client.get("/articles/no-such-article/").get("X-Page-Cache") is None


# --- HTTP validators ---------------------------------------------------------------------


def test_public_pages_carry_validators_and_answer_conditional_gets(client, live):
    url = live.article.get_absolute_url()
    page = client.get(url)
    assert page["Cache-Control"] == "public, no-cache"
    assert page["ETag"].startswith('"')
    assert page["Last-Modified"]

    by_etag = client.get(url, HTTP_IF_NONE_MATCH=page["ETag"])
    assert by_etag.status_code == 304 and by_etag.content == b""

    category = Category.objects.get(pk=live.revision.category_id)
    category.name = "Renamed category"
    category.save()
    changed = client.get(url, HTTP_IF_NONE_MATCH=page["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != page["ETag"]


def test_a_cdn_max_age_is_the_sites_choice(client, live, settings):
    settings.PUBLIC_CDN_MAX_AGE = 60
    page = client.get(live.article.get_absolute_url())
    assert page["Cache-Control"] == "public, max-age=0, s-maxage=60"


def test_the_public_version_is_replaced_inside_the_steps_transaction(live):
    """Read from a second connection: the new token is visible exactly when the step is."""
    before = version.current()
    workflow.unpublish(article=live.article, actor=live.editor, comment="Outdated.")
    after = version.current()
    assert after.token != before.token
    assert after.changed_at >= before.changed_at
    assert timezone.now() - after.changed_at < timedelta(minutes=1)


def test_the_release_fingerprint_changes_with_page_settings(settings):
    from pagecache import release

    release.release.cache_clear()
    first = release.release()
    settings.CLINIC_PHONE = "(555) 010-0000"
    release.release.cache_clear()
    try:
        assert release.release() != first
    finally:
        release.release.cache_clear()


def test_clear_page_cache_retires_every_page(client, live):
    from django.core.management import call_command

    url = live.article.get_absolute_url()
    client.get(url)
    before = version.current()
    call_command("clear_page_cache", stdout=io.StringIO())
    assert version.current().token != before.token
    assert client.get(url)["X-Page-Cache"] == "miss"


def test_sitemap_files_are_stored_for_each_page_number(client, live):
    for url in ("/sitemap.xml", "/sitemap-articles.xml", "/sitemap-articles.xml?p=1"):
        assert client.get(url)["X-Page-Cache"] == "miss", url
        assert client.get(url)["X-Page-Cache"] == "hit", url
    # The list pages' parameter is not the sitemap's.
    assert client.get("/sitemap-articles.xml?page=1")["X-Page-Cache"] == "uncached"
