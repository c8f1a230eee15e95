"""While the database cannot be reached every page answers 503, politely, and the site
recovers by itself once it is back.

The finding: during a 2.3 s PostgreSQL restart under load three requests answered 500.
Nothing here is mocked: the site runs under gunicorn against a SQLite file that cannot be
opened, a PostgreSQL port that refuses connections, and a real PostgreSQL behind a relay
that drops every connection and refuses new ones, as a restart does. The in-process tests
at the end point the site's own connection at the same dead targets.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client, RequestFactory

from clinic_site.views import server_error
from tests.site.servers import (
    POSTGRES_RUN,
    Answer,
    fetch,
    gunicorn,
    manage,
    refusing_port,
    relay,
    silent_port,
)

RETRY_AFTER = str(settings.DATABASE_UNAVAILABLE_RETRY_AFTER)

# Every kind of public page, a feed, the sitemap, and the admin with a session cookie.
DATABASE_PAGES = [
    "/",
    "/articles/couples-therapy-and-sex-therapy-for-intimacy-issues/",
    "/search/?q=intimacy",
    "/categories/",
    "/categories/relationships-and-intimacy/",
    "/reviewers/",
    "/reviewers/mark-hrymoc/",
    "/feed/",
    "/feed/atom/",
    "/sitemap.xml",
]
SESSION = {"Cookie": "sessionid=" + "a" * 32}


def assert_polite_503(answer: Answer, where: str) -> None:
    assert answer.status == 503, f"{where}: {answer.status}\n{answer.text[:500]}"
    assert answer.headers.get("retry-after") == RETRY_AFTER, where
    assert answer.headers.get("cache-control") == "no-store", where
    assert answer.headers["content-type"].startswith("text/html"), where
    assert "We will be back in a moment" in answer.text, where
    assert settings.CLINIC_PHONE in answer.text, where  # the site's own page and footer
    assert 'href="/static/css/site.css"' in answer.text, where
    assert "Traceback" not in answer.text and "Error" not in answer.text, where


def assert_site_down_politely(base: str) -> None:
    for path in DATABASE_PAGES:
        assert_polite_503(fetch(base, path), path)
    assert_polite_503(fetch(base, "/admin/", headers=SESSION), "/admin/ with a session")
    # Pages that need no database still answer.
    assert fetch(base, "/robots.txt").status == 200
    assert fetch(base, "/static/css/site.css").status == 200
    # Logging in needs the database: the form is shown (it needs none), the post is a 503.
    login = fetch(base, "/admin/login/")
    assert login.status in (200, 503)
    if login.status == 200:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        cookie = login.headers["set-cookie"].split(";")[0]
        posted = fetch(
            base,
            "/admin/login/",
            method="POST",
            body=urlencode(
                {"csrfmiddlewaretoken": token, "username": "editor", "password": "x" * 12}
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        assert_polite_503(posted, "POST /admin/login/")


@pytest.mark.skipif(POSTGRES_RUN, reason="the SQLite run of the suite covers it")
def test_sqlite_file_that_cannot_be_opened_then_appears(tmp_path):
    """A SQLite database in a folder that does not exist cannot be opened (not even
    created): 503s. Once the folder and a migrated database are there, the same server
    answers 200 without a restart."""
    ready, missing = tmp_path / "ready", tmp_path / "missing"
    ready.mkdir()
    env = {"DATABASE_URL": f"sqlite:///{missing / 'db.sqlite3'}"}
    with gunicorn(env, log_path=tmp_path / "gunicorn.log") as base:
        assert_site_down_politely(base)
        manage("migrate", "--noinput", database_url=f"sqlite:///{ready / 'db.sqlite3'}")
        manage("load_demo", database_url=f"sqlite:///{ready / 'db.sqlite3'}")
        ready.rename(missing)
        for path in DATABASE_PAGES:
            assert fetch(base, path).status == 200, path
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    assert "Database unavailable, answered 503" in log


def test_postgresql_port_that_refuses_connections(tmp_path):
    with refusing_port() as port:
        env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/clinic"}
        with gunicorn(env, log_path=tmp_path / "gunicorn.log") as base:
            assert_site_down_politely(base)
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    assert "Connection refused" in log


def test_postgresql_host_that_never_answers_is_a_503_within_the_connect_timeout(tmp_path):
    """Without a connect timeout a silent host holds every request until gunicorn kills
    the worker; with DATABASE_CONNECT_TIMEOUT the page is a 503 in that time."""
    with silent_port() as port:
        env = {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/clinic",
            "DATABASE_CONNECT_TIMEOUT": "2",
        }
        with gunicorn(env, log_path=tmp_path / "gunicorn.log") as base:
            # gunicorn's port opens before its worker has loaded the site (1 s or more on
            # a busy machine); a page that needs no database waits for that, so the time
            # below is the silent host's alone.
            assert fetch(base, "/robots.txt").status == 200
            started = time.monotonic()
            assert_polite_503(fetch(base, "/"), "/ with a silent database host")
            assert time.monotonic() - started < 10


def _postgres_target() -> tuple[str, int, str, str] | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    import dj_database_url

    parsed = dj_database_url.parse(url)
    return parsed["HOST"] or "127.0.0.1", int(parsed["PORT"] or 5432), parsed["USER"], url


@pytest.mark.skipif(_postgres_target() is None, reason="PostgreSQL suite only (DATABASE_URL)")
def test_postgresql_restart_drops_connections_then_recovers(tmp_path):
    """A PostgreSQL restart as the site sees it: every open connection is cut, new ones are
    refused, then it listens again. The worker's kept-alive connection dies under it."""
    host, port, user, url = _postgres_target()
    name = f"clinic_outage_{os.getpid()}"
    psql = ["psql", "-h", host, "-p", str(port), "-U", user, "-v", "ON_ERROR_STOP=1", "-qc"]
    subprocess.run([*psql, f'CREATE DATABASE "{name}"', "postgres"], check=True)  # noqa: S603
    try:
        site_url = f"postgres://{user}@{host}:{port}/{name}"
        manage("migrate", "--noinput", database_url=site_url)
        manage("load_demo", database_url=site_url)
        with relay((host, port)) as pg:
            env = {"DATABASE_URL": f"postgres://{user}@127.0.0.1:{pg.port}/{name}"}
            with gunicorn(env, log_path=tmp_path / "gunicorn.log") as base:
                for path in DATABASE_PAGES:  # and keep the connection open (CONN_MAX_AGE)
                    assert fetch(base, path).status == 200, path
                pg.down()
                assert_site_down_politely(base)
                pg.up()
                for path in DATABASE_PAGES:
                    assert fetch(base, path).status == 200, path
        log = (tmp_path / "gunicorn.log").read_text()
        assert "Traceback" not in log, log[-3000:]
        assert "Database unavailable, answered 503" in log
    finally:
        subprocess.run(  # noqa: S603
            [*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', "postgres"], check=False
        )


# --- In process: the site's own connection pointed at the same dead targets -------------


@pytest.fixture(params=["sqlite-missing-folder", "sqlite-locked", "postgresql-refused"])
def database_down(request, django_db_blocker, tmp_path):
    """Swap the site's default connection for one to a database that cannot be reached,
    with database access allowed, so what happens is what the driver does."""
    from django.db.utils import load_backend

    locked = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, and never finishing
    request.addfinalizer(holder.close)
    with refusing_port() as port:
        target = {
            "sqlite-missing-folder": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "missing" / "db.sqlite3"),
            },
            "sqlite-locked": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(locked),
                "OPTIONS": {"timeout": 0.2},  # the site waits 20 s; the test need not
            },
            "postgresql-refused": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "clinic",
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": str(port),
            },
        }[request.param]
        conf = connections.configure_settings({"default": target})["default"]
        broken = load_backend(conf["ENGINE"]).DatabaseWrapper(conf, "default")
        original = connections["default"]
        connections["default"] = broken
        try:
            with django_db_blocker.unblock():
                yield
        finally:
            broken.close()
            connections["default"] = original


class QueryAfterTheView:
    """A middleware that uses the database after the view, as saving a session does: its
    failure happens outside any view, where Django turns it into a 500 by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        from django.contrib.sessions.models import Session

        Session.objects.exists()
        return response


def _answer(response) -> Answer:
    return Answer(
        response.status_code,
        {k.lower(): v for k, v in response.items()},
        response.content.decode(),
    )


def test_in_process_every_page_is_a_503(database_down):
    client = Client(raise_request_exception=False)
    for path in DATABASE_PAGES:
        assert_polite_503(_answer(client.get(path)), path)
    client.cookies["sessionid"] = "a" * 32
    assert_polite_503(_answer(client.get("/admin/")), "/admin/ with a session")


def test_a_failure_outside_any_view_is_a_503_too(database_down, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.QueryAfterTheView"]
    client = Client(raise_request_exception=False)
    # robots.txt itself needs no database; the middleware after it does.
    assert_polite_503(_answer(client.get("/robots.txt")), "/robots.txt")


def test_the_500_page_needs_no_database():
    """No `db` fixture: pytest-django refuses every query, and the handler swallows
    exceptions into a bare fallback, so the full page proves nothing was queried."""
    response = server_error(RequestFactory().get("/anything/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert settings.CLINIC_CTA_HEADING in page  # the site's footer: the whole template


def test_other_database_errors_stay_500s(db, settings):
    """Only an unreachable database is a 503: a broken query is a bug, and stays a 500."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.BrokenQuery"]
    response = Client(raise_request_exception=False).get("/robots.txt")
    assert response.status_code == 500
    assert "Retry-After" not in response


class BrokenQuery(QueryAfterTheView):
    def __call__(self, request):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_anywhere")
        return self.get_response(request)
