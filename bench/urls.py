"""The benchmark's URLs: the whole site, plus `/bench/bare/`, a bare Django view that returns
the article page's bytes (fetched once by bench/harness.py and written to BENCH_BARE_BODY).

It runs through the same settings and middleware as every page, so its throughput is what
this Django on this machine can do for a page of that size: the framework's limit the
public pages are measured against. Only bench/settings.py routes here; the site's own URLs
never include it.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from clinic_site.urls import handler404, handler500
from clinic_site.urls import urlpatterns as site_urlpatterns

_body: bytes | None = None


def bare(request: HttpRequest) -> HttpResponse:
    global _body
    if _body is None:
        source = os.environ.get("BENCH_BARE_BODY", "")
        if not source or not Path(source).is_file():
            return HttpResponse("BENCH_BARE_BODY is not set up yet.", status=503)
        _body = Path(source).read_bytes()
    return HttpResponse(_body, content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *site_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
