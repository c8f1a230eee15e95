"""Attacks on the whole-page public cache (pagecache/), as an attacker would write them.

The promise under attack: readers see only what a physician approved, and once a step
that changes what the public sees commits, no request anywhere gets the old page. Each
attack either holds (a passing test that asserts what was served, and that nothing the
public sees changed where it should not have) or is a weakness, written as a test of the
right behaviour and marked `xfail(strict=True)` with the reason, so that fixing it turns
the suite red until the mark is removed.

The oracle for staleness is the site without the cache: a page served through the cache
must be, byte for byte, the page the views render right now (`_fresh`).
"""

from __future__ import annotations

import importlib.util
import io
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from articles import workflow
from articles.models import Article, Category, Revision
from pagecache import release, version
from reviewers.models import Reviewer
from tests.builders import admin_form_data
from tests.builders.content import (
    approvals_expired,
    approve,
    fresh,
    make_article,
    make_category,
    save,
    submit,
)
from tests.builders.people import make_physician, make_superuser, make_writer
from tests.builders.pictures import picture, upload
from tests.builders.states import Story, article_in
from tests.pagecache import urls_attacks

pytestmark = pytest.mark.django_db

CACHE_MIDDLEWARE = "pagecache.middleware.PublicPageCacheMiddleware"
# A title saved in a working copy and never approved: it must never reach a reader.
DRAFT_TITLE = "Unapproved draft title that must never be public"


@pytest.fixture(autouse=True)
def empty_page_cache():
    caches["pages"].clear()
    urls_attacks.calls.clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def live():
    return article_in("live")


def _fresh(url: str, **headers):
    """What the site answers without the page cache: the views, right now."""
    without = [m for m in django_settings.MIDDLEWARE if m != CACHE_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without):
        return Client().get(url, **headers)


def _text(response) -> str:
    return response.content.decode()


def _admin() -> Client:
    admin = Client()
    admin.force_login(make_superuser())
    return admin


def _misses(client: Client, urls, **headers) -> list[str]:
    """The URLs among `urls` whose answer was rendered and newly stored."""
    return [url for url in urls if client.get(url, **headers).get("X-Page-Cache") == "miss"]


# =========================================================================================
# (a) Every write readers can see retires the pages that show it; nothing else does.
# =========================================================================================


@dataclass
class World:
    """A live article (the one attacked), a second live article in the same category (so
    no list, feed or sitemap is ever empty), its physician's profile, and a physician with
    a public profile and no published article."""

    story: Story
    anchor: Article
    bystander: Reviewer
    admin: Client
    notes: dict = field(default_factory=dict)

    @property
    def article(self) -> Article:
        return fresh(self.story.article)

    @property
    def live(self) -> Revision:
        assert self.story.live is not None
        return self.story.live

    @property
    def category(self) -> Category:
        return Category.objects.get(pk=self.live.category_id)

    @property
    def reviewer(self) -> Reviewer:
        return Reviewer.objects.get(user=self.story.physician)

    def urls(self) -> set[str]:
        return {
            "/",
            reverse("articles:category_index"),
            reverse("reviewers:index"),
            reverse("articles:feed_rss"),
            reverse("articles:feed_atom"),
            reverse("sitemap"),
            self.article.get_absolute_url(),
            fresh(self.anchor).get_absolute_url(),
            self.category.get_absolute_url(),
            self.reviewer.get_absolute_url(),
            fresh(self.bystander).get_absolute_url(),
        }


@pytest.fixture
def world(media_root) -> World:
    story = article_in("live")
    anchor = make_article(make_writer(), category=Category.objects.get(pk=story.live.category_id))
    anchor_revision = submit(anchor, note="Anchor.")
    approve(anchor_revision, story.physician)
    workflow.publish(revision=anchor_revision, actor=story.editor)
    bystander = Reviewer.objects.get(user=make_physician(display_name="Dr. Bystander"))
    return World(story=story, anchor=anchor, bystander=bystander, admin=_admin())


# --- The steps an attacker (or an editor) takes ------------------------------------------


def _draft(w: World) -> None:
    save(w.article, title=DRAFT_TITLE)


def _submitted(w: World) -> None:
    _draft(w)
    w.notes["revision"] = submit(w.article, note="Second version.")


def _approved(w: World) -> None:
    _submitted(w)
    approve(w.notes["revision"], w.story.physician)


def _scheduled(w: World) -> None:
    _approved(w)
    workflow.schedule(
        revision=w.notes["revision"],
        actor=w.story.editor,
        publish_at=timezone.now() + timedelta(days=7),
    )


def _overdue(w: World) -> None:
    """Scheduled, and its time has come (publish_at is a workflow column readers never
    see; moving it into the past is how the clock would)."""
    _scheduled(w)
    Revision.objects.filter(pk=w.notes["revision"].pk).update(
        publish_at=timezone.now() - timedelta(seconds=1)
    )


def _unpublished(w: World) -> None:
    workflow.unpublish(article=w.article, actor=w.story.editor, comment="Outdated dosing.")


def _admin_change(w: World, url: str, **changes) -> None:
    page = w.admin.get(url)
    assert page.status_code == 200, url
    response = w.admin.post(url, admin_form_data(page, **changes))
    assert response.status_code == 302, _text(response)[:3000]


def _category_renamed_in_admin(w: World) -> None:
    url = reverse("admin:articles_category_change", args=[w.category.pk])
    _admin_change(w, url, name="Renamed in the admin")


def _category_slug_changed_in_admin(w: World) -> list[str]:
    old = w.category.get_absolute_url()
    url = reverse("admin:articles_category_change", args=[w.category.pk])
    _admin_change(w, url, slug="moved-category")
    return [old, w.category.get_absolute_url()]


def _category_described_in_sql(w: World) -> None:
    Category.objects.filter(pk=w.category.pk).update(description="A description, by SQL.")


def _new_category_url(w: World) -> list[str]:
    return ["/categories/new-topic/"]


def _category_added_in_admin(w: World) -> list[str]:
    url = reverse("admin:articles_category_add")
    page = w.admin.get(url)
    response = w.admin.post(url, admin_form_data(page, name="New topic", slug="new-topic"))
    assert response.status_code == 302
    return ["/categories/new-topic/"]


def _empty_category(w: World) -> list[str]:
    w.notes["empty"] = make_category(name="Leaving soon", slug="leaving-soon")
    return ["/categories/leaving-soon/"]


def _empty_category_deleted_in_admin(w: World) -> list[str]:
    url = reverse("admin:articles_category_delete", args=[w.notes["empty"].pk])
    assert w.admin.post(url, {"post": "yes"}).status_code == 302
    return ["/categories/leaving-soon/"]


def _reviewer_url(w: World) -> str:
    return reverse("admin:reviewers_reviewer_change", args=[w.reviewer.pk])


def _bio_edited_in_admin(w: World) -> None:
    _admin_change(w, _reviewer_url(w), bio="Thirty years of practice, edited in the admin.")


def _byline_edited_in_admin(w: World) -> None:
    _admin_change(w, _reviewer_url(w), display_name="Dr. Renamed", credentials="D.O.")


def _reviewer_slug_changed_in_admin(w: World) -> list[str]:
    old = w.reviewer.get_absolute_url()
    _admin_change(w, _reviewer_url(w), slug="moved-reviewer")
    return [old, w.reviewer.get_absolute_url()]


def _photo_uploaded_in_admin(w: World) -> None:
    _admin_change(w, _reviewer_url(w), photo=upload("portrait.png", picture(size=(64, 64))))
    assert w.reviewer.photo.name


def _bystander_deactivated_in_admin(w: World) -> list[str]:
    url = reverse("admin:reviewers_reviewer_change", args=[w.bystander.pk])
    page = w.admin.get(url)
    data = admin_form_data(page)
    data.pop("active", None)  # an unticked box is not sent
    assert w.admin.post(url, data).status_code == 302
    assert not fresh(w.bystander).active
    return [fresh(w.bystander).get_absolute_url()]


def _bystander_account_deactivated_in_admin(w: World) -> list[str]:
    url = reverse("admin:auth_user_change", args=[w.bystander.user_id])
    page = w.admin.get(url)
    data = admin_form_data(page)
    data.pop("is_active", None)
    response = w.admin.post(url, data)
    assert response.status_code == 302, _text(response)[:3000]
    assert not fresh(w.bystander.user).is_active
    return [fresh(w.bystander).get_absolute_url()]


def _account_renamed(w: World) -> None:
    """Names, username and address of the physician's account: not what pages print (the
    byline is the profile's, and an article's is frozen in its review)."""
    user = w.story.physician
    user.first_name, user.last_name = "Renamed", "Account"
    user.username, user.email = "renamed-account", "renamed@clinic.invalid"
    user.save()


def _slug_changed(w: World) -> list[str]:
    """The admin keeps a published article's slug read-only; a shell or a data migration
    can still change it."""
    old = w.article.get_absolute_url()
    article = w.article
    article.slug = "moved-article"
    article.save(update_fields=["slug"])
    return [old, w.article.get_absolute_url()]


def _published_at_corrected(w: World) -> None:
    """A workflow column the app role may update, on the live revision."""
    Revision.objects.filter(pk=w.live.pk).update(published_at=timezone.now() - timedelta(days=40))


def _re_reviewed_by_another_physician(w: World) -> None:
    """The live revision's approval expired; another physician signs it again, so the page
    names a new reviewer and date (a new Review, and the revision's approval replaced)."""
    with approvals_expired():
        approve(fresh(w.live), w.bystander.user)
    assert fresh(w.live).approval.reviewer_id == w.bystander.pk


def _refused_approval(w: World) -> None:
    workflow.record_refused_approval(
        revision=w.notes["revision"], actor=w.story.physician, reason="Wrong password."
    )


@dataclass(frozen=True)
class Step:
    name: str
    act: Callable[[World], object]
    prepare: Callable[[World], object] | None = None
    # Whether readers can see the change: the public version must change exactly then.
    retires: bool = True
    # Whether some page checked shows it (clear_page_cache retires without a change).
    shows: bool = True


STEPS = [
    # Nothing readers see changes: the version stays, every page stays a hit, and the
    # hit is still exactly what the views render.
    Step("draft saved", _draft, retires=False),
    Step("revision submitted", lambda w: submit(w.article), _draft, retires=False),
    Step(
        "revision approved",
        lambda w: approve(w.notes["revision"], w.story.physician),
        _submitted,
        retires=False,
    ),
    Step(
        "changes requested",
        lambda w: workflow.request_changes(
            revision=w.notes["revision"], actor=w.story.physician, comment="Cite a source."
        ),
        _submitted,
        retires=False,
    ),
    Step(
        "submission withdrawn",
        lambda w: workflow.withdraw(
            revision=w.notes["revision"], actor=w.story.author, comment="Not ready."
        ),
        _submitted,
        retires=False,
    ),
    Step("approval refused", _refused_approval, _submitted, retires=False),
    Step(
        "revision scheduled",
        lambda w: workflow.schedule(
            revision=w.notes["revision"],
            actor=w.story.editor,
            publish_at=timezone.now() + timedelta(days=3),
        ),
        _approved,
        retires=False,
    ),
    Step(
        "schedule cancelled",
        lambda w: workflow.unschedule(revision=w.notes["revision"], actor=w.story.editor),
        _scheduled,
        retires=False,
    ),
    Step("physician's account renamed", _account_renamed, retires=False),
    # Readers see the change: every page showing it is retired at once.
    Step(
        "new revision published",
        lambda w: workflow.publish(revision=w.notes["revision"], actor=w.story.editor),
        _approved,
    ),
    Step("article unpublished", _unpublished),
    Step(
        "unpublished article published again",
        lambda w: workflow.publish(revision=w.live, actor=w.story.editor),
        _unpublished,
    ),
    Step(
        "scheduled revision goes live (publish_due)",
        lambda w: workflow.publish_due(
            now=fresh(w.notes["revision"]).publish_at + timedelta(seconds=1)
        ),
        _scheduled,
    ),
    Step(
        "scheduled revision goes live (run_scheduler)",
        lambda w: call_command("run_scheduler", iterations=1, interval=0.01, stdout=io.StringIO()),
        _overdue,
    ),
    Step(
        "scheduled revision goes live (publish_scheduled)",
        lambda w: call_command("publish_scheduled", stdout=io.StringIO()),
        _overdue,
    ),
    Step("expired live revision re-reviewed", _re_reviewed_by_another_physician),
    Step("category renamed in the admin", _category_renamed_in_admin),
    Step("category slug changed in the admin", _category_slug_changed_in_admin),
    Step("category described in SQL", _category_described_in_sql),
    Step("category added in the admin", _category_added_in_admin, _new_category_url),
    Step("empty category deleted in the admin", _empty_category_deleted_in_admin, _empty_category),
    Step("reviewer bio edited in the admin", _bio_edited_in_admin),
    Step("reviewer byline edited in the admin", _byline_edited_in_admin),
    Step("reviewer slug changed in the admin", _reviewer_slug_changed_in_admin),
    Step("reviewer photo uploaded in the admin", _photo_uploaded_in_admin),
    Step("reviewer profile deactivated in the admin", _bystander_deactivated_in_admin),
    Step("reviewer account deactivated in the admin", _bystander_account_deactivated_in_admin),
    Step("live article's slug changed", _slug_changed),
    Step("live revision's publication date corrected", _published_at_corrected),
    Step(
        "clear_page_cache",
        lambda w: call_command("clear_page_cache", stdout=io.StringIO()),
        shows=False,
    ),
]


def _urls_of(result: object) -> set[str]:
    """The extra URLs a step names (a list); whatever else it returned is not one."""
    return {url for url in result if isinstance(url, str)} if isinstance(result, list) else set()


@pytest.mark.parametrize("step", STEPS, ids=[step.name for step in STEPS])
def test_after_each_step_every_page_served_is_the_page_the_views_render_now(client, world, step):
    urls = world.urls() | _urls_of(step.prepare(world) if step.prepare else None)
    urls |= world.urls()
    for url in urls:
        client.get(url)
    warmed = {url: client.get(url) for url in urls}
    stored = {url for url, page in warmed.items() if page.status_code == 200}
    assert stored and all(warmed[url]["X-Page-Cache"] == "hit" for url in stored)
    before = version.current()

    urls |= _urls_of(step.act(world)) | world.urls()

    assert (version.current().token != before.token) == step.retires, (
        "the public version changed" if not step.retires else "the public version stayed"
    )
    changed = []
    for url in sorted(urls):
        served, now = client.get(url), _fresh(url)
        assert served.status_code == now.status_code, (url, served.get("X-Page-Cache"))
        if now.status_code == 200:
            assert served.content == now.content, (url, served.get("X-Page-Cache"))
        if url not in warmed or (warmed[url].status_code, warmed[url].content) != (
            now.status_code,
            now.content,
        ):
            changed.append(url)
        if not step.retires:
            assert DRAFT_TITLE not in _text(served), url
            if url in stored:
                assert served["X-Page-Cache"] == "hit", url
    # Not vacuous: a public step changed some page checked, and a private one none.
    assert bool(changed) == (step.retires and step.shows), changed


@override_settings(ROOT_URLCONF="tests.pagecache.urls_attacks")
def test_a_page_rendered_before_a_change_committed_is_never_served_after_it(client):
    """The version is read before the view runs: a page rendered from the old state and
    stored after the change committed sits under the old version, which nobody asks for."""
    make_category(name="Original", slug="racy")
    first = client.get("/attack/racy/")
    assert _text(first) == "Original"  # rendered before the rename, stored after it
    second = client.get("/attack/racy/")
    assert _text(second) == "Renamed"
    assert second["X-Page-Cache"] == "miss"
    assert Category.objects.get(slug="racy").name == "Renamed"


# =========================================================================================
# (b) Nothing private is stored or served.
# =========================================================================================


def test_a_staff_preview_of_a_draft_never_reaches_an_anonymous_reader(client, world):
    _submitted(world)
    staff = Client()
    staff.force_login(world.story.editor)
    preview = staff.get(fresh(world.notes["revision"]).preview_url())
    assert preview.status_code == 200 and DRAFT_TITLE in _text(preview)
    assert "public" not in preview["Cache-Control"]

    anonymous = client.get(fresh(world.notes["revision"]).preview_url())
    assert anonymous.status_code == 302 and "X-Page-Cache" not in anonymous
    for url in world.urls():
        for _ in range(2):
            assert DRAFT_TITLE not in _text(client.get(url)), url


def test_a_page_staff_render_is_not_what_the_next_reader_gets(client, live):
    url = live.article.get_absolute_url()
    staff = Client()
    staff.force_login(live.editor)
    assert staff.get(url)["X-Page-Cache"] == "bypass"
    assert client.get(url)["X-Page-Cache"] == "miss"
    # And a made-up session cookie is never an entrance to the stored page either way.
    stranger = Client()
    stranger.cookies[django_settings.SESSION_COOKIE_NAME] = "not-a-session"
    answer = stranger.get(url)
    assert answer["X-Page-Cache"] == "bypass" and "private" in answer["Cache-Control"]


def test_an_authorization_header_is_never_served_nor_stores_a_page(client, live):
    url = live.article.get_absolute_url()
    with_credentials = client.get(url, HTTP_AUTHORIZATION="Basic c3RhZmY6c2VjcmV0")
    assert with_credentials["X-Page-Cache"] == "bypass"
    assert "private" in with_credentials["Cache-Control"]
    assert client.get(url)["X-Page-Cache"] == "miss"


def test_request_headers_outside_the_key_cannot_shape_the_stored_page(client, live):
    """Whatever else the first reader sends, the page stored for the next one is the page
    the views render for a plain request."""
    url = live.article.get_absolute_url()
    first = client.get(
        url,
        HTTP_ACCEPT_LANGUAGE="fr",
        HTTP_X_FORWARDED_HOST="evil.example",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_USER_AGENT="<script>alert(1)</script>",
        HTTP_REFERER="https://evil.example/",
        HTTP_COOKIE=f"csrftoken={'attackerchosen' * 2}abcd; messages=forged",
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert first["X-Page-Cache"] == "miss" and not first.cookies
    hit = Client().get(url)
    assert hit["X-Page-Cache"] == "hit"
    assert hit.content == _fresh(url).content
    for token in ("evil.example", "attackerchosen", "forged", "alert(1)"):
        assert token not in _text(hit)


def test_a_conditional_miss_stores_the_whole_page_not_the_304(client, live):
    url = live.article.get_absolute_url()
    etag = client.get(url)["ETag"]
    caches["pages"].clear()
    conditional = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert conditional.status_code == 304  # a miss: rendered, stored, answered 304
    page = Client().get(url)
    assert page.status_code == 200 and page["X-Page-Cache"] == "hit"
    assert page.content == _fresh(url).content and page.content


@pytest.mark.parametrize("method", ["post", "options", "put", "delete"])
def test_other_methods_are_neither_stored_nor_served_from_the_cache(client, live, method):
    url = live.article.get_absolute_url()
    client.get(url)
    response = getattr(client, method)(url)
    assert response.get("X-Page-Cache") != "hit"
    assert not (response.status_code == 200 and "public" in response.get("Cache-Control", ""))
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_a_404_is_not_remembered_once_the_article_is_published(client):
    story = article_in("approved")
    url = story.article.get_absolute_url()
    assert client.get(url).status_code == 404
    assert client.get(url).get("X-Page-Cache") is None
    workflow.publish(revision=story.revision, actor=story.editor)
    assert client.get(url).status_code == 200


@override_settings(ROOT_URLCONF="tests.pagecache.urls_attacks")
def test_a_500_from_a_public_view_is_not_stored(client):
    reader = Client(raise_request_exception=False)
    assert reader.get("/attack/fails/").status_code == 500
    assert reader.get("/attack/fails/").status_code == 500
    assert urls_attacks.calls == ["fails", "fails"]


@override_settings(ROOT_URLCONF="tests.pagecache.urls_attacks")
def test_a_streamed_public_page_is_not_stored(client):
    for _ in range(2):
        response = client.get("/attack/streams/")
        assert b"".join(response.streaming_content) == b"part one, part two"
    assert urls_attacks.calls == ["streams", "streams"]


def test_a_database_outage_on_the_version_read_is_a_503_and_stores_nothing(client, live):
    url = live.article.get_absolute_url()
    with mock.patch.object(version, "current", side_effect=OperationalError("server closed")):
        outage = client.get(url)
    assert outage.status_code == 503 and "no-store" in outage["Cache-Control"]
    assert client.get(url)["X-Page-Cache"] == "miss"


@override_settings(ROOT_URLCONF="tests.pagecache.urls_attacks")
def test_a_page_that_sets_the_csrf_cookie_is_not_stored(client):
    first = client.get("/attack/csrf-form/")
    assert django_settings.CSRF_COOKIE_NAME in first.cookies
    second = Client().get("/attack/csrf-form/")
    assert second["X-Page-Cache"] != "hit"
    assert urls_attacks.calls == ["csrf_form", "csrf_form"]
    assert first.content != second.content  # each reader got their own token


# A csrftoken cookie of the wrong length: CsrfViewMiddleware answers with a new one.
MALFORMED_CSRF_COOKIE = "csrftoken=attacker-picked-token"


def test_a_malformed_csrf_cookie_never_leaves_a_cookie_in_the_stored_page(client, live):
    url = live.article.get_absolute_url()
    provoked = client.get(url, HTTP_COOKIE=MALFORMED_CSRF_COOKIE)
    assert django_settings.CSRF_COOKIE_NAME in provoked.cookies
    assert provoked["X-Page-Cache"] == "uncached"  # not stored: it sets a cookie
    for _ in range(2):
        reader = Client().get(url)
        assert not reader.cookies and "Set-Cookie" not in reader


@override_settings(ROOT_URLCONF="tests.pagecache.urls_attacks", PUBLIC_CDN_MAX_AGE=60)
@pytest.mark.parametrize("page", ["article page, malformed csrf cookie", "page with a form"])
def test_a_page_that_sets_a_cookie_is_not_offered_to_shared_caches(client, live, page):
    if page == "page with a form":
        response = client.get("/attack/csrf-form/")
    else:
        response = client.get(live.article.get_absolute_url(), HTTP_COOKIE=MALFORMED_CSRF_COOKIE)
    assert response.status_code == 200 and response.cookies
    assert "public" not in response["Cache-Control"]
    assert "s-maxage" not in response["Cache-Control"]


@override_settings(ROOT_URLCONF="tests.pagecache.urls_attacks")
def test_a_cookie_set_as_a_raw_header_is_never_replayed_to_another_reader(client):
    first = client.get("/attack/raw-set-cookie/")
    assert first["Set-Cookie"] == "visitor=1; Path=/"
    second = Client().get("/attack/raw-set-cookie/")
    assert second.get("Set-Cookie") != "visitor=1; Path=/"


@override_settings(ROOT_URLCONF="tests.pagecache.urls_attacks")
@pytest.mark.parametrize("url", ["/attack/never-cache/", "/attack/private/"])
def test_a_view_that_forbids_caching_is_not_stored_nor_made_public(client, url):
    first, second = client.get(url), client.get(url)
    assert len(urls_attacks.calls) == 2
    assert first.content != second.content
    assert "public" not in second["Cache-Control"]


def test_a_host_not_allowed_is_refused_and_never_served_a_stored_page(client, live, settings):
    settings.ALLOWED_HOSTS = ["clinic.example"]
    url = live.article.get_absolute_url()
    assert client.get(url, HTTP_HOST="clinic.example")["X-Page-Cache"] == "miss"
    for host in ("evil.example", "clinic.example.evil.example", "clinic.example@evil.example"):
        response = client.get(url, HTTP_HOST=host)
        assert response.status_code == 400, host
        assert "X-Page-Cache" not in response
    assert client.get(url, HTTP_HOST="clinic.example")["X-Page-Cache"] == "hit"


def test_https_and_http_pages_are_kept_apart(client, live, settings):
    """Behind a TLS proxy: the HSTS header stored with an https page never reaches an http
    reader, and an http copy never answers an https reader."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = live.article.get_absolute_url()
    secure = client.get(url, HTTP_X_FORWARDED_PROTO="https")
    assert secure["X-Page-Cache"] == "miss" and "Strict-Transport-Security" in secure
    plain = client.get(url)
    assert plain["X-Page-Cache"] == "miss" and "Strict-Transport-Security" not in plain
    assert client.get(url, HTTP_X_FORWARDED_PROTO="https")["X-Page-Cache"] == "hit"
    assert "Strict-Transport-Security" not in client.get(url)


def test_a_forged_forwarded_proto_is_ignored_when_the_proxy_header_is_not_trusted(client, live):
    url = live.article.get_absolute_url()
    forged = client.get(url, HTTP_X_FORWARDED_PROTO="https")
    assert forged["X-Page-Cache"] == "miss" and "Strict-Transport-Security" not in forged
    assert client.get(url)["X-Page-Cache"] == "hit"  # one page, the http one


def test_an_http_request_that_must_be_redirected_stores_nothing(client, live, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = live.article.get_absolute_url()
    assert client.get(url).status_code == 301
    assert client.get(url, HTTP_X_FORWARDED_PROTO="https")["X-Page-Cache"] == "miss"
    assert client.get(url).status_code == 301


def test_a_head_request_first_never_stores_an_empty_page_for_get(client, live):
    url = live.article.get_absolute_url()
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head["X-Page-Cache"] == "uncached"
    page = client.get(url)
    assert page["X-Page-Cache"] == "miss" and page.content == _fresh(url).content
    hit_head = client.head(url)
    assert hit_head["X-Page-Cache"] == "hit" and hit_head.content == b""
    assert int(hit_head["Content-Length"]) == len(page.content)


@pytest.mark.parametrize(
    "query", ["?page=1&page=2", "?page=1&utm_source=x", "?page=", "?page=-1", "?page=1.0"]
)
def test_ambiguous_or_extra_parameters_are_never_stored(client, live, query):
    for _ in range(2):
        response = client.get("/" + query)
        assert response.get("X-Page-Cache") in (None, "uncached"), query


def test_a_path_spelled_another_way_is_not_another_stored_page(client, live):
    url = live.article.get_absolute_url()
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url.rstrip("/")).status_code == 301  # APPEND_SLASH, never stored
    assert client.get(url + "/").status_code == 404
    encoded = "/articles/" + "".join(f"%{ord(c):02X}" for c in live.article.slug) + "/"
    assert client.get(encoded)["X-Page-Cache"] == "hit"  # the same path, the same key
    assert client.get(url.upper()).status_code == 404


# =========================================================================================
# (c) Stalling and flooding it.
# =========================================================================================

# Ten spellings of the first page of the home page: Django reads each as page 1.
PAGE_ONE_SPELLINGS = [
    "?page=1",
    "?page=01",
    "?page=000001",
    "?page=%31",
    "?%70age=1",
    "?&page=1",
    "?page=1&",
    "?page=1&&&",
    "?page=%D9%A1",  # ARABIC-INDIC DIGIT ONE: str.isdigit() and int() both accept it
    "?page=%EF%BC%91",  # FULLWIDTH DIGIT ONE
]


def test_every_spelling_of_page_one_is_the_same_page(client, live):
    """What the flood below stores is real, duplicate content, not error pages."""
    canonical = _fresh("/?page=1").content
    for query in PAGE_ONE_SPELLINGS:
        assert _fresh("/" + query).content == canonical, query


def test_one_page_is_stored_once_however_its_page_number_is_spelled(client, live):
    client.get("/")
    assert len(_misses(client, ["/" + query for query in PAGE_ONE_SPELLINGS])) <= 1


def test_a_page_without_pages_is_not_stored_again_for_each_page_number(client, live):
    url = live.article.get_absolute_url()
    client.get(url)
    flood = [f"{url}?page={n}" for n in range(2, 32)]
    assert _fresh(flood[-1]).content == _fresh(url).content  # the same page every time
    assert _misses(client, flood) == []


def test_a_flood_of_made_up_urls_does_not_evict_the_real_pages(client, live, settings):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages-flood",
            "OPTIONS": {"MAX_ENTRIES": 20},
        },
    }
    real = ["/", live.article.get_absolute_url(), reverse("articles:category_index")]
    for url in real:
        client.get(url)
    article = live.article.get_absolute_url()
    for n in range(1, 61):
        client.get(f"{article}?page={n:06d}")
    assert [client.get(url)["X-Page-Cache"] for url in real] == ["hit"] * len(real)


def test_one_page_is_stored_once_however_the_allowed_host_is_spelled(client, live, settings):
    settings.ALLOWED_HOSTS = ["clinic.example"]
    url = live.article.get_absolute_url()
    spellings = ["CLINIC.EXAMPLE", "clinic.example.", "clinic.example:80", "clinic.example:0080"]
    spellings += [f"clinic.example:{port}" for port in range(1, 11)]
    reference = client.get(url, HTTP_HOST="clinic.example")
    for host in spellings:
        assert _fresh(url, HTTP_HOST=host).content == reference.content, host
    assert _misses(client, [url], HTTP_HOST="clinic.example") == []
    stored = [host for host in spellings if _misses(client, [url], HTTP_HOST=host)]
    assert stored == []


def test_overlong_and_overfull_query_strings_are_refused_or_not_stored(client, live):
    long_number = client.get("/?page=" + "1" * 5000)
    assert long_number.get("X-Page-Cache") in (None, "uncached")
    too_many_fields = client.get("/?" + "&".join(f"f{n}=1" for n in range(1100)))
    assert too_many_fields.status_code == 400
    assert too_many_fields.get("X-Page-Cache") is None


def _refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_pages(settings, port: int) -> None:
    """The page cache exactly as the shipped settings configure it for REDIS_URL."""
    shipped = _shipped_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0")["CACHES"]["pages"]
    settings.CACHES = {**settings.CACHES, "pages": shipped}


def test_public_pages_still_answer_while_redis_is_down(live, settings):
    _redis_pages(settings, _refused_port())
    response = Client(raise_request_exception=False).get(live.article.get_absolute_url())
    assert response.status_code == 200
    assert "Couples therapy and intimacy" in _text(response)


def test_a_redis_that_stops_answering_holds_a_request_for_seconds_not_forever(settings):
    """redis-py 8 (pinned) gives up reading after 5 s by default; with no timeout a silent
    Redis (a failover, a full buffer) would hold every worker for good. What the reader
    then gets is the outage test's concern above."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    _redis_pages(settings, silent.getsockname()[1])
    outcome: dict[str, object] = {}

    def read_home() -> None:
        try:
            outcome["status"] = Client(raise_request_exception=False).get("/").status_code
        finally:
            connection.close()

    reader = threading.Thread(target=read_home, daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(timeout=10)
    held = reader.is_alive()
    silent.close()  # any connection still pending is reset, which frees the reader
    reader.join(timeout=30)
    assert not held, "a public request was still waiting for Redis after 10 s"
    assert time.monotonic() - started < 10 and "status" in outcome


def test_a_cache_key_is_bounded_and_names_release_version_and_url(client, live):
    from pagecache.middleware import page_key

    request = client.get(live.article.get_absolute_url() + "?page=1").wsgi_request
    state = version.current()
    key = page_key(request, state)
    assert key.startswith(f"page:{release.release()}:{state.token}:")
    assert len(key) < 120
    other = client.get(live.article.get_absolute_url() + "?page=2").wsgi_request
    assert page_key(other, state) != key


# =========================================================================================
# (d) Conditional GETs.
# =========================================================================================


def _etag_forms(etag: str) -> dict[str, str]:
    return {
        "strong": etag,
        "weak": "W/" + etag,
        "in a list": f'"nope", {etag}, "other"',
        "weak in a list": f'"nope", W/{etag}',
        "star": "*",
    }


@pytest.mark.parametrize("form", list(_etag_forms('"x"')))
def test_if_none_match_answers_304_only_while_the_page_is_the_same(client, live, form):
    url = live.article.get_absolute_url()
    page = client.get(url)
    header = _etag_forms(page["ETag"])[form]
    for _ in range(2):  # a miss then a hit, and the 304 either way
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=header)
        assert not_modified.status_code == 304 and not_modified.content == b""

    category = Category.objects.get(pk=live.revision.category_id)
    category.name = "Renamed category"
    category.save()
    again = client.get(url, HTTP_IF_NONE_MATCH=header)
    if form == "star":  # "*" matches any current representation: still a 304
        assert again.status_code == 304
    else:
        assert again.status_code == 200 and "Renamed category" in _text(again)


def test_a_304_carries_validators_and_nothing_else(client, live):
    url = live.article.get_absolute_url()
    page = client.get(url)
    client.get(url)  # stored
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=page["ETag"])
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == page["ETag"]
    assert not_modified["Last-Modified"] == page["Last-Modified"]
    assert not_modified["Cache-Control"] == "public, no-cache"
    assert not not_modified.cookies
    for header in ("Set-Cookie", "Content-Type", "X-Page-Cache", "Vary"):
        assert header not in not_modified, header


def test_an_old_etag_is_not_revived_by_a_date_that_still_matches(client, live):
    """If-None-Match decides when present: a matching If-Modified-Since cannot revive it."""
    home = client.get("/")
    other = article_in("live")
    response = client.get(
        "/",
        HTTP_IF_NONE_MATCH=home["ETag"],
        HTTP_IF_MODIFIED_SINCE=http_date(time.time() + 3600),
    )
    assert response.status_code == 200
    assert other.article.get_absolute_url() in _text(response)


def test_a_page_that_is_gone_is_never_revalidated(client, live):
    url = live.article.get_absolute_url()
    page = client.get(url)
    workflow.unpublish(article=live.article, actor=live.editor, comment="Outdated.")
    for headers in (
        {"HTTP_IF_NONE_MATCH": page["ETag"]},
        {"HTTP_IF_NONE_MATCH": "*"},
        {"HTTP_IF_MODIFIED_SINCE": http_date(time.time() + 3600)},
    ):
        assert client.get(url, **headers).status_code == 404, headers
    assert Article.objects.get(pk=live.article.pk).live_revision_id is None


def test_a_date_alone_never_earns_a_304(client, live):
    """Two changes in one second share a Last-Modified, so only the ETag may prove a copy
    current: a conditional GET by date alone gets the page."""
    url = live.article.get_absolute_url()
    page = client.get(url)
    assert page["Last-Modified"]
    by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=page["Last-Modified"])
    assert by_date.status_code == 200 and by_date.content == page.content
    assert client.get(url, HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304


def _start_of_a_second() -> None:
    time.sleep(1.02 - time.time() % 1)


def test_a_change_in_the_same_second_is_not_answered_304(client, live):
    url = live.article.get_absolute_url()
    category = Category.objects.get(pk=live.revision.category_id)
    for attempt in range(10):
        _start_of_a_second()
        category.name = f"Before {attempt}"
        category.save()
        first = client.get(url)
        earlier = version.current().changed_at
        category.name = f"After {attempt}"
        category.save()
        later = version.current().changed_at
        if int(earlier.timestamp()) == int(later.timestamp()):
            break
    else:
        pytest.skip("could not make two changes within one second")
    assert f"Before {attempt}" in _text(first)
    again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200
    assert f"After {attempt}" in _text(again)


def test_last_modified_never_goes_backwards(client, live):
    url = live.article.get_absolute_url()
    ahead = timezone.now() + timedelta(seconds=30)  # this app server's clock runs ahead
    with mock.patch.object(version.timezone, "now", return_value=ahead):
        call_command("clear_page_cache", stdout=io.StringIO())
    first = client.get(url)
    category = Category.objects.get(pk=live.revision.category_id)
    category.name = "Renamed after the retirement"
    category.save()
    again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200
    assert "Renamed after the retirement" in _text(again)


# =========================================================================================
# What the whole-page cache keeps besides the database: the release and media URLs.
# =========================================================================================


def _shipped_settings(**environment: str) -> dict:
    """clinic_site/settings.py as it configures a server given this environment."""
    spec = importlib.util.find_spec("clinic_site.settings")
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)  # a fresh module, not the one in use
    with mock.patch.dict(os.environ, environment):
        spec.loader.exec_module(copy)
    return vars(copy)


def test_a_stored_page_never_outlives_the_media_urls_it_shows(client, settings):
    shipped = _shipped_settings(AWS_STORAGE_BUCKET_NAME="clinic-media")
    storage = dict(shipped["STORAGES"]["default"])
    storage["OPTIONS"] = {
        **storage["OPTIONS"],
        "access_key": "AKIAEXAMPLEEXAMPLE00",
        "secret_key": "example-secret-for-signing-only",
        "region_name": "us-east-1",
    }
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    reviewer = Reviewer.objects.get(user=make_physician())
    reviewer.photo = "reviewers/0123abcd.png"
    reviewer.save()

    page = client.get(reviewer.get_absolute_url())
    assert page["X-Page-Cache"] == "miss"
    src = _text(page).split('class="profile-photo" src="', 1)[1].split('"', 1)[0]
    query = parse_qs(urlsplit(src.replace("&amp;", "&")).query)
    if "X-Amz-Expires" in query:
        lifetime = int(query["X-Amz-Expires"][0])
    elif "Expires" in query:
        lifetime = int(query["Expires"][0]) - int(time.time())
    else:
        lifetime = None  # not signed: good for as long as the file is there
    assert lifetime is None or lifetime >= settings.PAGE_CACHE_SECONDS, src


@pytest.mark.parametrize("change", ["media custom domain", "hsts max-age"])
def test_a_setting_that_changes_a_stored_page_changes_the_release(client, settings, change):
    reviewer = Reviewer.objects.get(user=make_physician())
    reviewer.photo = "reviewers/0123abcd.png"
    reviewer.save()
    url = reviewer.get_absolute_url()
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def s3(domain: str) -> dict:
        options = {"bucket_name": "clinic-media", "custom_domain": domain}
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}

    def apply(which: int) -> None:
        if change == "media custom domain":
            domain = ("media-a.clinic.example", "media-b.clinic.example")[which]
            settings.STORAGES = {**settings.STORAGES, "default": s3(domain)}
        else:
            settings.SECURE_HSTS_SECONDS = (31_536_000, 300)[which]

    def sent() -> tuple:
        response = _fresh(url, HTTP_X_FORWARDED_PROTO="https")
        return response.content, response.get("Strict-Transport-Security")

    apply(0)
    release.release.cache_clear()
    try:
        first_release, first_page = release.release(), sent()
        apply(1)
        release.release.cache_clear()
        assert sent() != first_page  # the page readers should get did change
        assert release.release() != first_release
    finally:
        release.release.cache_clear()


def test_creating_a_draft_article_leaves_the_cache_alone(client, live):
    url = live.article.get_absolute_url()
    client.get(url)
    before = version.current()
    category = Category.objects.get(pk=live.revision.category_id)
    make_article(make_writer(), category=category, title=DRAFT_TITLE)
    assert version.current() == before
    assert client.get(url)["X-Page-Cache"] == "hit"
