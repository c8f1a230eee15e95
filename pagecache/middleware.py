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
time: nothing readers see changed after it), and a conditional GET is answered 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from clinic_site.middleware import database_unavailable_response, is_database_unavailable

from . import version
from .decorators import MARK
from .release import release

CACHE_ALIAS = "pages"
# Query strings a stored page may have: none, or a page number. Anything else is still
# answered, from the view, but never stored, so made-up parameters cannot fill the cache.
_STORABLE_PARAMETERS = {"page"}
_MAX_PAGE_DIGITS = 6


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


def _storable_query(request: HttpRequest) -> bool:
    if not request.GET:
        return True
    if set(request.GET) - _STORABLE_PARAMETERS:
        return False
    values = request.GET.getlist("page")
    return len(values) == 1 and values[0].isdigit() and len(values[0]) <= _MAX_PAGE_DIGITS


def page_key(request: HttpRequest, state: version.PublicState) -> str:
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return f"page:{release()}:{state.token}:{digest}"


def _public_headers(response: HttpResponse, state: version.PublicState) -> None:
    max_age = settings.PUBLIC_CDN_MAX_AGE
    if max_age > 0:
        # A shared cache (a CDN) may serve it for max_age seconds without asking again.
        patch_cache_control(response, public=True, max_age=0, s_maxage=max_age)
    else:
        # Stored anywhere, but revalidated on every use: a 304 costs this site one query.
        patch_cache_control(response, public=True, no_cache=True)
    response["Last-Modified"] = http_date(state.changed_at.timestamp())


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:40] + '"'


class PublicPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        mark = _public_mark(request)
        if mark is None:
            return self.get_response(request)
        if not _is_anonymous_read(request):
            response = self.get_response(request)
            if response.status_code == 200:
                patch_cache_control(response, private=True, no_cache=True)
                response["X-Page-Cache"] = "bypass"
            return response
        if mark != "public":
            return self._uncached(request)

        try:
            state = version.current()
        except Exception as error:
            # The same 503 page a view's database failure gets, without a logged traceback
            # for every request while the database is away.
            if is_database_unavailable(error):
                return database_unavailable_response(request, error)
            raise
        key = page_key(request, state) if _storable_query(request) else ""
        cache = caches[CACHE_ALIAS]
        if key:
            stored = cache.get(key)
            if isinstance(stored, StoredPage):
                return self._from_cache(request, stored, state)

        response = self.get_response(request)
        if response.status_code != 200 or response.streaming:
            return response
        _public_headers(response, state)
        etag = _etag(response.content)
        response["ETag"] = etag
        if key and self._may_store(response) and request.method == "GET":
            cache.set(
                key,
                StoredPage(
                    status=response.status_code,
                    headers=tuple(response.headers.items()),
                    content=response.content,
                    etag=etag,
                ),
                settings.PAGE_CACHE_SECONDS,
            )
            response["X-Page-Cache"] = "miss"
        else:
            response["X-Page-Cache"] = "uncached"
        return self._conditional(request, response, etag, state.changed_at)

    def _uncached(self, request: HttpRequest) -> HttpResponse:
        """A public page never stored (search): public validators, from the view each time."""
        response = self.get_response(request)
        if response.status_code != 200 or response.streaming:
            return response
        patch_cache_control(response, public=True, no_cache=True)
        etag = _etag(response.content)
        response["ETag"] = etag
        response["X-Page-Cache"] = "uncached"
        return self._conditional(request, response, etag, None)

    @staticmethod
    def _may_store(response: HttpResponse) -> bool:
        # A cookie or a Vary header means the page depends on the reader after all.
        return not response.cookies and not response.has_header("Vary")

    def _from_cache(
        self, request: HttpRequest, stored: StoredPage, state: version.PublicState
    ) -> HttpResponse:
        response = HttpResponse(
            b"" if request.method == "HEAD" else stored.content, status=stored.status
        )
        for name, value in stored.headers:
            response[name] = value
        response["X-Page-Cache"] = "hit"
        return self._conditional(request, response, stored.etag, state.changed_at)

    @staticmethod
    def _conditional(
        request: HttpRequest, response: HttpResponse, etag: str, changed_at: datetime | None
    ) -> HttpResponse:
        conditional = get_conditional_response(
            request,
            etag=etag,
            last_modified=int(changed_at.timestamp()) if changed_at else None,
            response=response,
        )
        return conditional or response
