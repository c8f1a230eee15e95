"""Two guards around the whole site, placed first in MIDDLEWARE.

`RequestSizeLimitMiddleware` refuses a request body larger than `MAX_REQUEST_BYTES` from
its declared Content-Length, before anything reads it (413), and a body of undeclared
length (chunked transfer coding) outright (411): Django reads no body without a
Content-Length, so such a body could only ever be silently dropped.

`DatabaseUnavailableMiddleware` turns a database that cannot be reached (PostgreSQL
restarting, a SQLite file that cannot be opened or stays locked) into a 503 page in the
site's design with `Retry-After`, instead of a 500. It catches the failure where a view
(or its template) raised it, and, through Django's `got_request_exception` signal, where
any other middleware did (a session saved after the view, say): Django has already turned
those into a 500 response by the time it gets here, so the signal marks the request and
the 500 is replaced. Neither page touches the database: they are rendered from settings
alone, with no context processors.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import time

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template import loader

from .context_processors import clinic

logger = logging.getLogger(__name__)

try:  # psycopg's own classes, for a failure raised outside Django's error wrapper
    import psycopg

    _PSYCOPG_ERRORS: tuple[type[BaseException], ...] = (
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
except ImportError:  # pragma: no cover - psycopg is a requirement
    _PSYCOPG_ERRORS = ()

# SQLite reports syntax errors and missing tables as OperationalError too, so there the
# primary result code decides: busy or locked past the timeout, an I/O error, a full disk,
# a file that cannot be opened, a lock protocol failure.
_SQLITE_UNAVAILABLE_CODES = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}

_FLAG = "_clinic_database_unavailable"


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True when the database could not do the work now, rather than was asked wrongly.

    PostgreSQL (DB-API): OperationalError is a refused, lost or shut-down connection, a
    server starting up or shutting down, a timeout, a deadlock or serialization failure;
    InterfaceError a connection already closed. A mistaken query is a ProgrammingError and
    stays a 500. Django re-raises the driver's error as its own, from the driver's.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sqlite3.Error):
            return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_UNAVAILABLE_CODES
        if isinstance(exc, _PSYCOPG_ERRORS):
            return True
        if isinstance(exc, OperationalError | InterfaceError) and exc.__cause__ is None:
            return True  # raised by Django itself, about the connection
        exc = exc.__cause__ or exc.__context__
    return False


def _page(request: HttpRequest, template: str, context: dict, fallback: str) -> str:
    """Render an error page from settings alone; a plain page if even that fails."""
    try:
        return loader.get_template(template).render(
            {**clinic(request), "error_page": True, **context}
        )
    except Exception:  # the page that explains a failure must not fail
        logger.exception("Rendering %s failed", template)
        return f"<!doctype html><title>{fallback}</title><h1>{fallback}</h1>"


class _Throttled:
    """Log a repeated warning at most once a second per process, counting the rest."""

    def __init__(self) -> None:
        self.last = 0.0
        self.suppressed = 0

    def warning(self, message: str, *args) -> None:
        now = time.monotonic()
        if now - self.last < 1.0:
            self.suppressed += 1
            return
        if self.suppressed:
            message += f" ({self.suppressed} more since the last report)"
        self.last, self.suppressed = now, 0
        logger.warning(message, *args)


_outage_log = _Throttled()


def database_unavailable_response(request: HttpRequest, exc: BaseException | None) -> HttpResponse:
    _outage_log.warning(
        "Database unavailable, answered 503: %s %s: %s", request.method, request.path, exc
    )
    retry_after = settings.DATABASE_UNAVAILABLE_RETRY_AFTER
    body = _page(
        request,
        "503.html",
        {"retry_after": retry_after},
        "Service temporarily unavailable (503)",
    )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    # Logged by the throttled line above, not once per request by django.request.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _FLAG, None) is not None:
            # Raised outside a view: Django already answered 500 and logged the traceback.
            return database_unavailable_response(request, getattr(request, _FLAG))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None


@receiver(got_request_exception, dispatch_uid="clinic_site.database_unavailable")
def _mark_database_unavailable(sender, request=None, **kwargs) -> None:
    """Django sends this while handling an uncaught exception, which sys.exc_info() holds."""
    exc = sys.exc_info()[1]
    if request is not None and is_database_unavailable(exc):
        setattr(request, _FLAG, exc)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.MAX_REQUEST_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH", "")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                return HttpResponse(
                    "Bad request: invalid Content-Length.\n",
                    status=400,
                    content_type="text/plain; charset=utf-8",
                )
            if length > self.limit:
                return self._too_large(request, length)
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return HttpResponse(
                "Length required: send the body with a Content-Length.\n",
                status=411,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    def _too_large(self, request: HttpRequest, length: int) -> HttpResponse:
        logger.warning(
            "Refused a %d-byte %s to %s: over MAX_REQUEST_BYTES (%d)",
            length,
            request.method,
            request.path,
            self.limit,
        )
        body = _page(
            request,
            "413.html",
            {"limit_megabytes": _megabytes(self.limit)},
            "Request too large (413)",
        )
        response = HttpResponse(body, status=413)
        # The line above says more than django.request's "Request Entity Too Large" would.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
