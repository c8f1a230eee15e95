"""Request bodies over MAX_REQUEST_BYTES are refused before anything reads them.

The finding: a 300 MB anonymous POST to /admin/login/ was accepted and streamed to disk.
These drive the WSGI application itself with a body stream that fails the test if it is
read at all, then check that ordinary posts and uploads under the limit still work.
"""

from __future__ import annotations

import io
import os
import sys

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from PIL import Image

from tests.builders import PASSWORD, upload

MB = 1024 * 1024


class UnreadableBody(io.RawIOBase):
    """A wsgi.input that records any attempt to read it and hands out nothing."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        self.attempts.append(f"read({size})")
        raise AssertionError("the request body was read")

    def readline(self, size=-1):
        self.attempts.append(f"readline({size})")
        raise AssertionError("the request body was read")

    def readinto(self, buffer):
        self.attempts.append("readinto")
        raise AssertionError("the request body was read")


def call_wsgi(path: str, *, method: str = "POST", **environ_extra) -> tuple[str, dict, bytes]:
    """One request through the site's WSGI application, as gunicorn would make it."""
    body = environ_extra.pop("body", None) or UnreadableBody()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **environ_extra,
    }
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    # As Django's own test client does: the test's database connection is not the server's
    # to health-check (and pytest-django refuses the check outside a database test).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = get_wsgi_application()(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], content


# No `db` fixture: pytest-django refuses any query, so these also show the refusals never
# reach the database.


def test_a_300_mb_post_to_the_admin_login_is_refused_unread():
    body = UnreadableBody()
    status, headers, content = call_wsgi(
        "/admin/login/",
        body=body,
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(300 * MB),
    )
    assert status.startswith("413 ")
    assert body.attempts == []
    assert headers["Content-Type"].startswith("text/html")
    page = content.decode()
    assert "too large" in page
    assert f"at most {settings.MAX_REQUEST_BYTES // MB} MB" in page
    assert settings.CLINIC_PHONE in page  # the site's own page, not a bare status line


def test_one_byte_over_the_limit_is_refused_and_the_limit_itself_passes_the_guard():
    over = call_wsgi(
        "/admin/login/",
        CONTENT_TYPE="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
    )
    assert over[0].startswith("413 ")
    # Exactly at the limit the request goes on: the CSRF check reads the form and refuses it.
    limit = settings.MAX_REQUEST_BYTES
    body = io.BytesIO(b"q=" + b"x" * (limit - 2))
    at_limit = call_wsgi(
        "/admin/login/",
        body=body,
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(limit),
        HTTP_COOKIE="csrftoken=" + "a" * 32,
    )
    assert at_limit[0].startswith("403 ")
    assert body.tell() == limit


@pytest.mark.parametrize("declared", ["-1", "12abc", "1e9"])
def test_a_malformed_content_length_is_refused_unread(declared):
    body = UnreadableBody()
    status, _, _ = call_wsgi("/admin/login/", body=body, CONTENT_LENGTH=declared)
    assert status.startswith("400 ")
    assert body.attempts == []


def test_a_chunked_body_without_a_length_is_refused_unread():
    """Django reads no body without a Content-Length, so a chunked one could only be dropped
    silently; the site says so instead (411), whatever size the chunks would have added up to."""
    body = UnreadableBody()
    status, _, _ = call_wsgi(
        "/admin/login/",
        body=body,
        CONTENT_TYPE="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert status.startswith("411 ")
    assert body.attempts == []


def test_the_limit_cannot_be_set_below_the_largest_upload():
    import subprocess

    env = {**os.environ, "MAX_REQUEST_BYTES": str(5 * MB), "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import clinic_site.settings"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "MAX_REQUEST_BYTES must be at least 6 MB" in result.stderr


# --- What must keep working ---------------------------------------------------------------


@pytest.mark.django_db
def test_an_ordinary_login_post_passes(client, writer):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": writer.username, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def noise_png_of(side: int) -> bytes:
    """A PNG of incompressible noise, about side² × 3 bytes."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        buffer, "PNG", compress_level=0
    )
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_picture_just_under_its_own_5_mb_limit_uploads(client, writer, media_root):
    content = noise_png_of(1260)
    assert 4.5 * MB < len(content) < 5 * MB
    assert client.login(username=writer.username, password=PASSWORD)
    response = client.post(
        "/admin/markdownx/upload/",
        {"image": upload("big.png", content)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["image_code"].startswith("![](/media/images/")


@pytest.mark.django_db
def test_a_picture_over_5_mb_gets_the_upload_s_own_message_not_a_413(client, writer, media_root):
    """Between the picture limit and the request limit the upload's own check answers, in
    words the editor shows."""
    content = noise_png_of(1400)
    assert 5 * MB < len(content) < settings.MAX_REQUEST_BYTES
    assert client.login(username=writer.username, password=PASSWORD)
    response = client.post(
        "/admin/markdownx/upload/",
        {"image": upload("too-big.png", content)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 400
    assert "upload one under 5 MB" in str(response.json())


@pytest.mark.django_db
def test_a_reference_file_of_5_mb_reaches_the_import_form(admin_client):
    """The admin's reference import takes files of up to 5 MB: one just over that is
    judged by the import form (its own message), not cut off by the request limit."""
    bib = b"% padding\n" * (5 * MB // 10 + 1)
    assert 5 * MB < len(bib) < settings.MAX_REQUEST_BYTES
    response = admin_client.post(
        "/admin/references/reference/import/",
        {"file": upload("library.bib", bib, "application/x-bibtex")},
    )
    assert response.status_code == 400  # the form, redisplayed with its error
    assert "That is more than 5 MB" in response.content.decode()
