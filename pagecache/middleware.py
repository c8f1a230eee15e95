"""Whole public pages from the cache, without touching the ORM or templates on a hit.

A page is stored under a key made of the release (pagecache.release), the public version
(pagecache.version: replaced by database triggers in the same transaction as any change
readers can see) and the URL. Once a change commits, the next request anywhere reads the
new version and so a key no page was ever stored under: invalidation is a property of the
key, not a list of deletes to keep complete.

Who is served from the cache: GET and HEAD requests with no session cookie and no
Authorization header, to URLs whose view is marked `@public_page` (decided by resolving the
URL first: any other request, a static file or robots.txt say, never reads the version,
and so never needs the database here). A request with a session (staff,
physicians, anyone logged in) is never served from the cache nor stored in it, and its
public page says `Cache-Control: private`.

Every public page carries an ETag (of its bytes) and Last-Modified (the public version's
time), and a conditional GET is answered 304 by its ETag only: two changes within one
second share a Last-Modified, so a date alone cannot prove a copy current.

What is stored is bounded by what the site publishes: a page is stored only for its one
canonical URL (no query string, or `page=N` written plainly on a list marked `paginated`),
whatever Host spelling the request used (no public page depends on it: absolute links come
from SITE_URL). Any other spelling is answered by the view and not stored. A cache that
fails (Redis away) is a miss, never an error page.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from clinic_site.middleware import database_unavailable_response, is_database_unavailable

from . import version
from .decorators import MARK, PAGINATED, UNCACHED
from .release import release

logger = logging.getLogger(__name__)

CACHE_ALIAS = "pages"
# A page number as the site writes it: no sign, no leading zero, ASCII digits, six at most.
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}", re.ASCII)
_HEADER = "X-Page-Cache"


@dataclass(frozen=True)
class StoredPage:
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    etag: str


def _public_mark(request: HttpRequest) -> str | None:
    """How the view this URL resolves to is marked, if at all (pagecache.decorators)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return getattr(match.func, MARK, None)


def _is_anonymous_read(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
    )


def _canonical_query(request: HttpRequest, mark: str) -> bool:
    query = request.META.get("QUERY_STRING", "")
    if not query:
        return True
    if not mark.startswith(PAGINATED):
        return False
    name, _, number = query.partition("=")
    return name == mark.removeprefix(PAGINATED) and _PAGE_NUMBER.fullmatch(number) is not None


def page_key(request: HttpRequest, state: version.PublicState) -> str:
    """Release, public version, scheme (HSTS differs) and the canonical path and query."""
    url = f"{request.scheme}:{request.path}?{request.META.get('QUERY_STRING', '')}"
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return f"page:{release()}:{state.token}:{digest}"


def _label(response: HttpResponse, answer: str) -> None:
    """Say hit, miss or bypass only where asked (tests, benchmarks): elsewhere it would tell
    anyone whether somebody read a page since the last change."""
    if settings.PAGE_CACHE_HEADER:
        response[_HEADER] = answer


def _public_headers(response: HttpResponse, state: version.PublicState | None) -> None:
    max_age = settings.PUBLIC_CDN_MAX_AGE
    if max_age > 0 and state is not None:
        # A shared cache (a CDN) may serve it for max_age seconds without asking again.
        patch_cache_control(response, public=True, max_age=0, s_maxage=max_age)
    else:
        # Stored anywhere, but revalidated on every use: a 304 costs this site one query.
        patch_cache_control(response, public=True, no_cache=True)
    if state is not None:
        response["Last-Modified"] = http_date(state.changed_at.timestamp())


def _private(response: HttpResponse) -> None:
    """A marked page that turned out to depend on the reader (or to be an error): no shared
    cache may keep it."""
    if not response.has_header("Cache-Control"):
        patch_cache_control(response, private=True, no_cache=True)


def _reusable(response: HttpResponse) -> bool:
    """Whether a marked view's 200 is the same for every reader after all: a cookie, a
    Vary header or the view's own Cache-Control say it is not."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not response.has_header("Set-Cookie")
        and not response.has_header("Vary")
        and not response.has_header("Cache-Control")
    )


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:40] + '"'


def _conditional(request: HttpRequest, response: HttpResponse, etag: str) -> HttpResponse:
    return get_conditional_response(request, etag=etag, response=response) or response


class PublicPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        mark = _public_mark(request)
        if mark is None:
            return self.get_response(request)
        if not _is_anonymous_read(request):
            response = self.get_response(request)
            _private(response)
            _label(response, "bypass")
            return response
        request.get_host()  # refuse a Host not allowed (400) before anything is served
        if mark == UNCACHED:
            return self._from_view(request, state=None, key="")

        try:
            state = version.current()
        except Exception as error:
            # The same 503 page a view's database failure gets, without a logged traceback
            # for every request while the database is away.
            if is_database_unavailable(error):
                return database_unavailable_response(request, error)
            raise
        key = page_key(request, state) if _canonical_query(request, mark) else ""
        if key:
            stored = self._read(key)
            if stored is not None:
                return self._from_cache(request, stored)
        return self._from_view(request, state=state, key=key)

    def _from_view(
        self, request: HttpRequest, *, state: version.PublicState | None, key: str
    ) -> HttpResponse:
        response = self.get_response(request)
        if not _reusable(response):
            _private(response)
            if response.status_code == 200:
                _label(response, "uncached")
            return response
        _public_headers(response, state)
        etag = _etag(response.content)
        response["ETag"] = etag
        if key and request.method == "GET":
            self._write(key, response, etag)
            _label(response, "miss")
        else:
            _label(response, "uncached")
        return _conditional(request, response, etag)

    @staticmethod
    def _read(key: str) -> StoredPage | None:
        try:
            stored = caches[CACHE_ALIAS].get(key)
        except Exception:  # the cache is an accelerator: without it, render
            logger.warning("Page cache unavailable; rendering instead", exc_info=True)
            return None
        return stored if isinstance(stored, StoredPage) else None

    @staticmethod
    def _write(key: str, response: HttpResponse, etag: str) -> None:
        page = StoredPage(
            status=response.status_code,
            headers=tuple(response.headers.items()),
            content=response.content,
            etag=etag,
        )
        try:
            caches[CACHE_ALIAS].set(key, page, settings.PAGE_CACHE_SECONDS)
        except Exception:
            logger.warning("Page cache unavailable; page not stored", exc_info=True)

    @staticmethod
    def _from_cache(request: HttpRequest, stored: StoredPage) -> HttpResponse:
        response = HttpResponse(
            b"" if request.method == "HEAD" else stored.content, status=stored.status
        )
        for name, value in stored.headers:
            response[name] = value
        _label(response, "hit")
        return _conditional(request, response, stored.etag)
