"""A URLconf for tests/pagecache/test_cache_attacks.py: views marked `@public_page` that
misbehave the way a careless future view could, beside the site's own URLs."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.cache import cache_control, never_cache

from pagecache.decorators import public_page

calls: list[str] = []

_FORM = engines["django"].from_string(
    "<form method=post>{% csrf_token %}<button>Subscribe</button></form>"
)


@public_page
def csrf_form(request: HttpRequest) -> HttpResponse:
    """A public page with a form: rendering the token sets the reader's CSRF cookie."""
    calls.append("csrf_form")
    return HttpResponse(_FORM.render({}, request))


@public_page
def raw_set_cookie(request: HttpRequest) -> HttpResponse:
    """A cookie written as a raw header rather than through `set_cookie`."""
    calls.append("raw_set_cookie")
    response = HttpResponse("welcome")
    response["Set-Cookie"] = f"visitor={len(calls)}; Path=/"
    return response


@public_page
@never_cache
def says_never_cache(request: HttpRequest) -> HttpResponse:
    calls.append("says_never_cache")
    return HttpResponse(f"rendered {len(calls)}")


@public_page
@cache_control(private=True)
def says_private(request: HttpRequest) -> HttpResponse:
    calls.append("says_private")
    return HttpResponse(f"rendered {len(calls)}")


@public_page
def fails(request: HttpRequest) -> HttpResponse:
    calls.append("fails")
    raise RuntimeError("a bug in a public view")


@public_page
def streams(request: HttpRequest) -> StreamingHttpResponse:
    calls.append("streams")
    return StreamingHttpResponse(iter([b"part one, ", b"part two"]))


@public_page
def category_name_then_a_rename(request: HttpRequest) -> HttpResponse:
    """Reads what it shows, then a public change commits before the page is stored: the
    slow render racing an editor, in one request."""
    calls.append("racy")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM articles_category WHERE slug = 'racy'")
        (name,) = cursor.fetchone()
        if len(calls) == 1:
            cursor.execute("UPDATE articles_category SET name = 'Renamed' WHERE slug = 'racy'")
    return HttpResponse(name)


urlpatterns = [
    path("attack/csrf-form/", csrf_form),
    path("attack/raw-set-cookie/", raw_set_cookie),
    path("attack/never-cache/", says_never_cache),
    path("attack/private/", says_private),
    path("attack/fails/", fails),
    path("attack/streams/", streams),
    path("attack/racy/", category_name_then_a_rename),
    path("", include("clinic_site.urls")),
]
