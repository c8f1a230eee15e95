"""`public_page`: marks a view's response as a public page the cache may keep."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

# The attribute of a marked view that pagecache.middleware reads, from the view the URL
# resolves to, before calling anything.
MARK = "public_page"
PUBLIC = "public"  # stored for its URL without a query string
PAGINATED = "paginated:"  # + the parameter: stored for no query string and for `?page=N`
UNCACHED = "uncached"  # public headers, never stored: search, whose queries are unbounded


def public_page(
    view: Callable[..., HttpResponse] | None = None,
    *,
    store: bool = True,
    paginated: bool | str = False,
) -> Any:
    """Mark a view as showing only public content, the same for every reader.

    Only a view whose output depends on nothing but the URL and the database's public
    state may carry this: no user, no session, no CSRF token, no messages. `paginated`:
    the view reads `?page=N` (or the parameter named), so each number is a page of its own.
    """

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return func(request, *args, **kwargs)

        if not store:
            mark = UNCACHED
        elif paginated:
            mark = PAGINATED + (paginated if isinstance(paginated, str) else "page")
        else:
            mark = PUBLIC
        setattr(wrapper, MARK, mark)
        return wrapper

    return decorate(view) if view is not None else decorate
