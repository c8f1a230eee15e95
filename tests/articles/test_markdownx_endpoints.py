"""The editor's preview and image-upload endpoints: staff only, POST only, real images only.

django-markdownx's own views accept anyone and trust the client's content type; the
project wraps them so that the preview renders only for staff and an upload is stored only
when Pillow decodes it as JPEG, PNG, GIF or WebP, re-encoded and content-addressed as
`images/<sha256>.<ext>` (tests/images covers the store itself).
"""

from __future__ import annotations

import hashlib
import io
import os

import lxml.html
import pytest
from PIL import Image

from tests.builders import REVIEWER, make_user, picture, stored_paths, upload

PREVIEW_URL = "/admin/markdownx/markdownify/"
UPLOAD_URL = "/admin/markdownx/upload/"
AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}  # what markdownx's editor script sends

pytestmark = pytest.mark.django_db


# --- People and files ---------------------------------------------------------------------


@pytest.fixture
def staff_client(client, writer):
    client.force_login(writer)
    return client


@pytest.fixture
def non_staff_client(client, db):
    user = make_user("reader")
    client.force_login(user)
    return client


@pytest.fixture
def render_spy(monkeypatch):
    """Records every call of the markdownify function the preview view uses."""
    import markdownx.views

    calls: list[str] = []
    real = markdownx.views.markdownify_func

    def spy(text):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(markdownx.views, "markdownify_func", spy)
    return calls


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="red"/></svg>'
)
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
    b"<script>alert(1)</script></svg>"
)
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


# --- Preview ------------------------------------------------------------------------------


def test_anonymous_preview_is_forbidden_and_renders_nothing(client, make_reference, render_spy):
    make_reference("parker2019")
    response = client.post(PREVIEW_URL, {"content": "Intimacy [@parker2019]."})
    assert response.status_code == 403
    assert render_spy == []
    assert b'class="citation"' not in response.content


def test_non_staff_preview_is_forbidden(non_staff_client, make_reference, render_spy):
    make_reference("parker2019")
    response = non_staff_client.post(PREVIEW_URL, {"content": "Intimacy [@parker2019]."})
    assert response.status_code == 403
    assert render_spy == []


def test_inactive_staff_preview_is_forbidden(client, render_spy):
    user = make_user("gone", is_staff=True, is_active=False)
    client.force_login(user)
    response = client.post(PREVIEW_URL, {"content": "Hello"})
    assert response.status_code == 403
    assert render_spy == []


def test_staff_preview_renders_the_citation_and_reference_list(
    staff_client, make_reference, render_spy, settings
):
    settings.CITATION_STYLE = "apa"
    make_reference("parker2019", authors=[{"family": "Parker", "given": "S. J."}])
    response = staff_client.post(
        PREVIEW_URL, {"content": "## Intimacy\n\nIt matters [@parker2019, p. 550]."}, **AJAX
    )
    assert response.status_code == 200
    page = lxml.html.fragment_fromstring(response.content.decode(), create_parent="div")
    (citation,) = page.xpath(".//a[@class='citation']")
    assert citation.get("href") == "#ref-parker2019"
    assert citation.get("id") == "cite-parker2019-1"
    assert citation.text_content() == "Parker, 2019, p. 550"
    (entry,) = page.xpath(".//li[@id='ref-parker2019']")
    assert entry.xpath(".//a[@class='backlink']/@href") == ["#cite-parker2019-1"]
    assert page.xpath(".//h1") == []
    assert [h.text_content() for h in page.xpath(".//h2")] == ["Intimacy", "References"]
    assert len(render_spy) == 1


def test_staff_preview_reports_unknown_keys(staff_client):
    response = staff_client.post(PREVIEW_URL, {"content": "Line one.\n\nBad [@nosuch]."}, **AJAX)
    assert response.status_code == 200
    assert "Unknown citation key “nosuch” on line 3." in response.content.decode()


def test_staff_preview_sanitizes(staff_client):
    response = staff_client.post(
        PREVIEW_URL, {"content": "Hi <script>alert(1)</script><img src=x onerror=alert(2)>"}
    )
    assert response.status_code == 200
    assert b"<script" not in response.content
    assert b"onerror" not in response.content
    assert b"Hi" in response.content


def test_preview_get_is_not_allowed(staff_client, render_spy):
    response = staff_client.get(PREVIEW_URL, {"content": "Hello"})
    assert response.status_code == 405
    assert render_spy == []


def test_anonymous_preview_get_is_forbidden(client, render_spy):
    assert client.get(PREVIEW_URL, {"content": "Hello"}).status_code == 403
    assert render_spy == []


# --- Upload -------------------------------------------------------------------------------


def test_staff_uploads_a_png(staff_client, media_root, settings):
    response = staff_client.post(
        UPLOAD_URL, {"image": upload("photo.png", picture("PNG"), "image/png")}, **AJAX
    )
    assert response.status_code == 200
    image_code = response.json()["image_code"]
    (saved,) = stored_paths(media_root)
    assert saved.suffix == ".png"
    assert saved.parent == media_root / "images"
    assert saved.stem == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert image_code == f"![]({settings.MEDIA_URL}images/{saved.name})"
    with Image.open(saved) as image:
        assert image.format == "PNG"
        assert image.size == (16, 12)


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [
        ("JPEG", "image/jpeg", ".jpeg"),
        ("GIF", "image/gif", ".gif"),
        ("WEBP", "image/webp", ".webp"),
    ],
)
def test_staff_uploads_other_raster_formats(
    staff_client, media_root, image_format, content_type, extension
):
    response = staff_client.post(
        UPLOAD_URL,
        {"image": upload(f"picture{extension}", picture(image_format), content_type)},
        **AJAX,
    )
    assert response.status_code == 200
    (saved,) = stored_paths(media_root)
    assert saved.suffix == extension
    with Image.open(saved) as image:
        assert image.format == image_format


def test_stored_name_follows_the_decoded_format_not_the_client(staff_client, media_root):
    # A real PNG that the client calls a JPEG named .html: stored as .png.
    response = staff_client.post(
        UPLOAD_URL, {"image": upload("page.html", picture("PNG"), "image/jpeg")}, **AJAX
    )
    assert response.status_code == 200
    (saved,) = stored_paths(media_root)
    assert saved.suffix == ".png"
    assert response.json()["image_code"].endswith(".png)")


def test_uploaded_image_is_reencoded_dropping_appended_payload(staff_client, media_root):
    polyglot = picture("PNG") + b"<script>alert(document.cookie)</script>"
    response = staff_client.post(
        UPLOAD_URL, {"image": upload("x.png", polyglot, "image/png")}, **AJAX
    )
    assert response.status_code == 200
    (saved,) = stored_paths(media_root)
    assert b"<script>" not in saved.read_bytes()


@pytest.mark.parametrize("content", [SVG, SVG_WITH_SCRIPT], ids=["plain", "scripted"])
def test_svg_upload_is_refused(staff_client, media_root, content):
    response = staff_client.post(
        UPLOAD_URL, {"image": upload("drawing.svg", content, "image/svg+xml")}, **AJAX
    )
    assert response.status_code == 400
    assert "image_code" not in response.json()
    assert stored_paths(media_root) == []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("x.png", HTML_PAGE, "image/png"),
        ("x.gif", HTML_PAGE, "image/gif"),
        ("x.png", SVG_WITH_SCRIPT, "image/png"),
        ("x.gif", SVG, "image/gif"),
        ("x.jpg", b"\xff\xd8\xff\xe0" + HTML_PAGE, "image/jpeg"),  # JPEG magic, no image
        ("x.gif", b"GIF89a" + HTML_PAGE, "image/gif"),  # GIF magic, no image
        ("x.png", b"", "image/png"),
    ],
    ids=[
        "html-as-png",
        "html-as-gif",
        "svg-as-png",
        "svg-as-gif",
        "jpeg-magic",
        "gif-magic",
        "empty",
    ],
)
def test_content_type_lie_is_refused_and_nothing_is_written(
    staff_client, media_root, name, content, content_type
):
    response = staff_client.post(UPLOAD_URL, {"image": upload(name, content, content_type)}, **AJAX)
    assert response.status_code == 400
    assert "image_code" not in response.json()
    assert stored_paths(media_root) == []


def test_other_raster_format_is_refused(staff_client, media_root):
    bmp = picture("BMP")
    response = staff_client.post(UPLOAD_URL, {"image": upload("x.png", bmp, "image/png")}, **AJAX)
    assert response.status_code == 400
    assert stored_paths(media_root) == []


def test_oversize_upload_is_refused(staff_client, media_root):
    from images.services import MAX_UPLOAD_BYTES

    limit = MAX_UPLOAD_BYTES
    # A genuine PNG that only the size limit stops: incompressible noise.
    side = int((limit / 3) ** 0.5) + 64
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    content = buffer.getvalue()
    assert len(content) > limit
    response = staff_client.post(
        UPLOAD_URL, {"image": upload("big.png", content, "image/png")}, **AJAX
    )
    assert response.status_code == 400
    assert "upload one under 5 MB" in response.json()["__all__"][0]
    assert stored_paths(media_root) == []


def test_anonymous_upload_is_forbidden_and_nothing_is_written(client, media_root):
    response = client.post(
        UPLOAD_URL, {"image": upload("photo.png", picture("PNG"), "image/png")}, **AJAX
    )
    assert response.status_code == 403
    assert stored_paths(media_root) == []


def test_non_staff_upload_is_forbidden_and_nothing_is_written(non_staff_client, media_root):
    response = non_staff_client.post(
        UPLOAD_URL, {"image": upload("photo.png", picture("PNG"), "image/png")}, **AJAX
    )
    assert response.status_code == 403
    assert stored_paths(media_root) == []


def test_upload_get_is_not_allowed(staff_client, media_root):
    assert staff_client.get(UPLOAD_URL).status_code == 405
    assert stored_paths(media_root) == []


def test_upload_without_a_file_is_refused(staff_client, media_root):
    response = staff_client.post(UPLOAD_URL, {}, **AJAX)
    assert response.status_code == 400
    assert stored_paths(media_root) == []


# --- Malformed requests from staff get a client error, not a server error ----------------


def test_refused_non_ajax_upload_is_a_client_error(staff_client, media_root):
    staff_client.raise_request_exception = False
    response = staff_client.post(UPLOAD_URL, {"image": upload("x.png", HTML_PAGE, "image/png")})
    assert stored_paths(media_root) == []
    assert response.status_code == 400


def test_preview_without_content_is_a_client_error(staff_client):
    staff_client.raise_request_exception = False
    response = staff_client.post(PREVIEW_URL, {})
    assert response.status_code == 400


def test_a_picture_too_large_to_decode_safely_is_refused(staff_client, media_root):
    """A tiny file can declare a huge canvas: refuse it before decoding it in memory."""
    image = Image.new("1", (8_000, 6_000))  # 48 megapixels, a few kilobytes as PNG
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    response = staff_client.post(
        UPLOAD_URL, {"image": upload("huge.png", buffer.getvalue(), "image/png")}, **AJAX
    )
    assert response.status_code == 400
    assert response.json() == {
        "__all__": ["This picture is 48 megapixels; upload one under 40 megapixels."]
    }
    assert stored_paths(media_root) == []


def test_staff_who_do_not_write_articles_cannot_upload(client, media_root):
    physician = make_user("doc", REVIEWER)
    client.force_login(physician)
    response = client.post(
        UPLOAD_URL, {"image": upload("photo.png", picture("PNG"), "image/png")}, **AJAX
    )
    assert response.status_code == 403
    assert stored_paths(media_root) == []
