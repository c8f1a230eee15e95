"""`public_page`: marks a view's response as a public page the cache may keep."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

# The attribute of a marked view that pagecache.middleware reads, from the view the URL
# resolves to, before calling anything: "public" (stored, revalidated) or "uncached"
# (public headers, never stored: search, whose queries are unbounded).
MARK = "public_page"


def public_page(view: Callable[..., HttpResponse] | None = None, *, store: bool = True) -> Any:
    """Mark a view as showing only public content, the same for every reader.

    Only a view whose output depends on nothing but the URL and the database's public
    state may carry this: no user, no session, no CSRF token, no messages.
    """

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return func(request, *args, **kwargs)

        setattr(wrapper, MARK, "public" if store else "uncached")
        return wrapper

    return decorate(view) if view is not None else decorate
