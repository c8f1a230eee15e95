"""Every upload path, end to end through the admin's own URLs with real logins: the
article's hero image, the editor's inline upload and a reviewer's photo.

The findings these close, each as a class:
- uploads kept the uploader's file name, so a body pointing at a file that did not exist
  yet could be "filled" later by an upload of that name;
- pictures went out as uploaded: EXIF with GPS, comments naming a patient, bytes appended
  after the image, any size, a PNG named .pdf served as a PDF.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import re

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.static import serve
from PIL import ExifTags, Image

from articles.models import Article
from images.models import StoredImage
from images.selectors import images_by_url
from images.services import prepare_image
from reviewers.models import Reviewer
from tests.builders import (
    PASSWORD,
    SECRET_COMMENT,
    SECRET_XMP,
    article_form_data,
    jpeg_with_secrets,
    noise_png,
    picture,
    png_claiming,
    stored_files,
    upload,
)

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/admin/markdownx/upload/"
AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
CONTENT_ADDRESSED = re.compile(r"images/([0-9a-f]{64})\.(jpeg|png|gif|webp)")


def log_in(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def assert_only_content_addressed_files(media_root) -> dict[str, str]:
    """Every file in storage is `images/<sha256 of its bytes>.<ext>`."""
    files = stored_files(media_root)
    for name, digest in files.items():
        match = CONTENT_ADDRESSED.fullmatch(name)
        assert match, f"{name} is not a content-addressed name"
        assert match.group(1) == digest, f"{name} does not hold the bytes its name says"
    return files


def state(media_root, article: Article | None = None) -> dict:
    """Everything a refused upload must leave as it was."""
    return {
        "images": list(StoredImage.objects.order_by("pk").values_list("sha256", "file")),
        "files": stored_files(media_root),
        "articles": Article.objects.count(),
        "article": Article.objects.filter(pk=article.pk).values().get() if article else None,
    }


# --- The article's hero image ----------------------------------------------------------


def add_article(client, category, *, body="## Intro\n\nText.", hero=None, **fields):
    data = {
        "title": "Sleep and anxiety",
        "slug": fields.pop("slug", "sleep-and-anxiety"),
        "category": category.pk,
        "summary": "How sleep and anxiety feed each other.",
        "body": body,
        "hero_image_alt": "A person resting",
        "_save": "Save",
        **fields,
    }
    if hero is not None:
        data["hero_image"] = hero
    return client.post(reverse("admin:articles_article_add"), data)


def change_article(client, article, *, hero=None, **changes):
    url = reverse("admin:articles_article_change", args=[article.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = article_form_data(page, **changes)
    if hero is not None:
        data["hero_image"] = hero
    return client.post(url, data)


@pytest.fixture
def article(client, writer, category, media_root) -> Article:
    log_in(client, writer)
    assert add_article(client, category).status_code == 302
    return Article.objects.get(slug="sleep-and-anxiety")


LATER_URLS = [
    "/media/articles/hero/later.png",
    "/media/articles/inline/later.png",
    "/media/images/later.png",
    "/media/later.png",
]


def test_a_body_pointing_at_a_future_file_can_never_be_filled_by_an_upload(
    client, writer, category, media_root, settings
):
    """The later.png attack: the body names a picture that does not exist yet; uploads
    named later.png (or a path to it) through every path never land there."""
    settings.MEDIA_URL = "/media/"
    log_in(client, writer)
    body = "## Intro\n\n" + "\n\n".join(f"![]({url})" for url in LATER_URLS)
    assert add_article(client, category, body=body).status_code == 302
    article = Article.objects.get(slug="sleep-and-anxiety")
    later = picture("PNG", color=(1, 2, 3))

    response = change_article(client, article, hero=upload("later.png", later))
    assert response.status_code == 302
    for name in ("later.png", "../articles/hero/later.png", "images/later.png", "/later.png"):
        response = client.post(UPLOAD_URL, {"image": upload(name, later)}, **AJAX)
        assert response.status_code == 200

    files = assert_only_content_addressed_files(media_root)
    (stored,) = files  # one picture, one file, whatever it was called
    for url in LATER_URLS:
        assert not (media_root / url.removeprefix("/media/")).exists()
    assert images_by_url(LATER_URLS) == {}
    assert Article.objects.get(pk=article.pk).hero_image.name == stored
    assert response.json()["image_code"] == f"![](/media/{stored})"


def test_a_stored_name_only_ever_holds_the_bytes_it_names(client, writer, media_root):
    """Predicting a name does not help either: `images/<sha>.<ext>` can only ever be
    filled with bytes whose SHA-256 is <sha>, which is what a revision freezes."""
    log_in(client, writer)
    predicted = prepare_image(upload=io.BytesIO(picture("PNG"))).name
    assert images_by_url([f"/media/{predicted}"]) == {}
    for content in (picture("PNG", color=(9, 9, 9)), picture("JPEG"), picture("PNG")):
        response = client.post(UPLOAD_URL, {"image": upload(predicted, content)}, **AJAX)
        assert response.status_code == 200
    files = assert_only_content_addressed_files(media_root)
    assert predicted in files
    assert files[predicted] == predicted.removeprefix("images/").removesuffix(".png")


def test_a_phone_photo_as_hero_loses_its_gps_position_and_the_patient_comment(
    client, writer, category, media_root
):
    log_in(client, writer)
    original = jpeg_with_secrets()
    response = add_article(client, category, hero=upload("IMG_0001.JPG", original, "image/jpeg"))
    assert response.status_code == 302
    name = Article.objects.get(slug="sleep-and-anxiety").hero_image.name
    assert CONTENT_ADDRESSED.fullmatch(name) and name.endswith(".jpeg")
    data = (media_root / name).read_bytes()
    for secret in (SECRET_COMMENT, b"Jane Doe", b"MRN 12345", SECRET_XMP, b"Exif\x00\x00"):
        assert secret not in data
    with Image.open(io.BytesIO(data)) as stored:
        exif = stored.getexif()
        assert ExifTags.IFD.GPSInfo not in exif
        assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert len(exif) == 0
        assert "comment" not in stored.info
        assert stored.size == (20, 40)  # the orientation was applied, then dropped
    image = StoredImage.objects.get(file=name)
    assert (image.uploaded_by, image.format, image.width, image.height) == (writer, "jpeg", 20, 40)


def test_a_png_named_doc_pdf_is_stored_as_png_and_served_as_an_image(client, article, media_root):
    pdf_named = upload("doc.pdf", picture("PNG"), "application/pdf")
    assert change_article(client, article, hero=pdf_named).status_code == 302
    name = Article.objects.get(pk=article.pk).hero_image.name
    assert CONTENT_ADDRESSED.fullmatch(name) and name.endswith(".png")
    assert not any(path.endswith(".pdf") for path in stored_files(media_root))
    # How it is served: by extension, whether a web server, S3 (django-storages sets the
    # ContentType from the name) or Django's static view.
    assert mimetypes.guess_type(name)[0] == "image/png"
    response = serve(RequestFactory().get(f"/media/{name}"), name, document_root=media_root)
    assert response["Content-Type"] == "image/png"


def test_bytes_appended_to_a_hero_image_are_gone(client, article, media_root):
    payload = b"<script>alert(document.cookie)</script>"
    polyglot = upload("x.png", picture("PNG") + payload)
    assert change_article(client, article, hero=polyglot).status_code == 302
    name = Article.objects.get(pk=article.pk).hero_image.name
    assert payload not in (media_root / name).read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            png_claiming(12_000, 12_000),
            "This picture is 144 megapixels; upload one under 40 megapixels.",
        ),
        (noise_png(6 * 1024 * 1024), "MB; upload one under 5 MB."),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "upload a JPEG, PNG, GIF or WebP picture",
        ),
        (b"<!doctype html><script>alert(1)</script>", "upload a JPEG, PNG, GIF or WebP picture"),
    ],
    ids=["144MP", "6MB", "svg", "html-as-png"],
)
def test_a_refused_hero_image_changes_nothing(client, article, media_root, content, message):
    before = state(media_root, article)
    response = change_article(
        client, article, hero=upload("hero.png", content), title="A new title"
    )
    assert response.status_code == 200  # the form is shown again, with the reason
    errors = response.context["adminform"].form.errors["hero_image"]
    assert len(errors) == 1 and message in errors[0]
    assert message in response.content.decode()
    assert state(media_root, article) == before


def test_a_valid_picture_in_a_refused_form_is_not_stored(client, article, media_root):
    """Stored only once the whole form is valid: a form refused for another reason (here a
    missing image description) leaves no file and no row behind."""
    before = state(media_root, article)
    response = change_article(client, article, hero=upload("x.png", picture("PNG")))
    assert response.status_code == 302
    after_first = state(media_root, article)
    assert after_first != before
    response = change_article(
        client, article, hero=upload("y.png", picture("GIF")), hero_image_alt=""
    )
    assert response.status_code == 200
    assert "hero_image_alt" in response.context["adminform"].form.errors
    assert state(media_root, article) == after_first


def test_a_stale_form_with_a_picture_stores_nothing(client, writer, article, media_root):
    url = reverse("admin:articles_article_change", args=[article.pk])
    stale_page = client.get(url)
    assert change_article(client, article, body="Someone else's edit.").status_code == 302
    before = state(media_root, article)
    data = article_form_data(stale_page, hero_image=upload("x.png", picture("PNG")))
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Someone else saved this article" in response.content.decode()
    assert state(media_root, article) == before


def test_the_same_picture_through_every_path_is_one_file_one_row_one_name(
    client, article, media_root
):
    content = jpeg_with_secrets()
    codes = [
        client.post(UPLOAD_URL, {"image": upload(name, content, "image/jpeg")}, **AJAX).json()
        for name in ("a.jpg", "b.jpeg")
    ]
    assert change_article(client, article, hero=upload("c.JPG", content)).status_code == 302
    name = Article.objects.get(pk=article.pk).hero_image.name
    assert codes == [{"image_code": f"![](/media/{name})"}] * 2
    assert StoredImage.objects.count() == 1
    assert list(stored_files(media_root)) == [name]


def test_an_existing_file_is_never_overwritten(client, writer, media_root):
    """Whatever sits at a content-addressed name stays; if its bytes are not the ones the
    name says, the upload is refused rather than pointed at them."""
    log_in(client, writer)
    content = picture("PNG")
    name = prepare_image(upload=io.BytesIO(content)).name
    planted = picture("PNG", color=(0, 0, 0))
    (media_root / "images").mkdir()
    (media_root / name).write_bytes(planted)
    before = state(media_root)
    response = client.post(UPLOAD_URL, {"image": upload("x.png", content)}, **AJAX)
    assert response.status_code == 400
    assert "stored copy of this picture is damaged" in response.json()["__all__"][0]
    assert state(media_root) == before
    assert (media_root / name).read_bytes() == planted


def test_clearing_the_hero_image_still_works(client, article, media_root):
    assert change_article(client, article, hero=upload("x.png", picture("PNG"))).status_code == 302
    response = change_article(client, article, **{"hero_image-clear": "on"})
    assert response.status_code == 302
    assert Article.objects.get(pk=article.pk).hero_image.name == ""
    assert StoredImage.objects.count() == 1  # the picture stays: a revision may show it


def test_the_hero_field_asks_the_browser_for_pictures(client, article):
    page = client.get(reverse("admin:articles_article_change", args=[article.pk]))
    assert 'accept="image/jpeg,image/png,image/gif,image/webp"' in page.content.decode()


# --- A reviewer's photo ----------------------------------------------------------------


def reviewer_form(profile: Reviewer, **changes) -> dict:
    data = {
        "display_name": profile.display_name,
        "credentials": profile.credentials,
        "title": profile.title,
        "board_certifications": profile.board_certifications,
        "specialties": profile.specialties,
        "bio": profile.bio,
        "photo_alt": "Dr. Hrymoc in a white coat",
        "slug": profile.slug,
        "active": "on",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_a_reviewer_photo_is_stored_content_addressed_and_clean(
    client, editor, reviewer_profile, media_root
):
    log_in(client, editor)
    url = reverse("admin:reviewers_reviewer_change", args=[reviewer_profile.pk])
    photo = upload("../../articles/hero/later.png", jpeg_with_secrets(), "image/png")
    response = client.post(url, reviewer_form(reviewer_profile, photo=photo))
    assert response.status_code == 302
    name = Reviewer.objects.get(pk=reviewer_profile.pk).photo.name
    files = assert_only_content_addressed_files(media_root)
    assert list(files) == [name] and name.endswith(".jpeg")
    data = (media_root / name).read_bytes()
    assert SECRET_COMMENT not in data and b"Exif\x00\x00" not in data
    assert StoredImage.objects.get(file=name).uploaded_by == editor


def test_a_refused_reviewer_photo_changes_nothing(client, editor, reviewer_profile, media_root):
    log_in(client, editor)
    url = reverse("admin:reviewers_reviewer_change", args=[reviewer_profile.pk])
    before = (
        state(media_root),
        Reviewer.objects.filter(pk=reviewer_profile.pk).values().get(),
    )
    photo = upload("me.png", png_claiming(12_000, 12_000))
    response = client.post(url, reviewer_form(reviewer_profile, photo=photo, bio="New bio"))
    assert response.status_code == 200
    assert "This picture is 144 megapixels; upload one under 40 megapixels." in (
        response.content.decode()
    )
    after = (state(media_root), Reviewer.objects.filter(pk=reviewer_profile.pk).values().get())
    assert after == before


def test_stored_bytes_match_their_name_after_every_path(client, article, editor, media_root):
    """One sweep: whatever came in through any path, storage holds only names that are the
    SHA-256 of their own bytes."""
    change_article(client, article, hero=upload("hero.webp", picture("WEBP")))
    client.post(UPLOAD_URL, {"image": upload("inline.gif", picture("GIF"))}, **AJAX)
    files = assert_only_content_addressed_files(media_root)
    assert len(files) == 2
    for name, digest in files.items():
        assert StoredImage.objects.get(file=name).sha256 == digest
        assert hashlib.sha256((media_root / name).read_bytes()).hexdigest() == digest
