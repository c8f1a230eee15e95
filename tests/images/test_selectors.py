"""images_by_url: which stored picture an address in an article body shows."""

from __future__ import annotations

import pytest

from images.selectors import images_by_url
from images.services import store_image
from tests.builders import picture, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def png(media_root):
    return store_image(upload=upload("a.png", picture("PNG")), actor=None)


@pytest.fixture
def jpeg(media_root):
    return store_image(upload=upload("b.jpg", picture("JPEG")), actor=None)


def test_relative_and_absolute_urls_resolve_in_one_query(
    png, jpeg, settings, django_assert_num_queries
):
    settings.MEDIA_URL = "/media/"
    settings.SITE_URL = "https://clinic.example"
    relative = f"/media/{png.file.name}"
    absolute = f"https://clinic.example/media/{jpeg.file.name}"
    with django_assert_num_queries(1):
        found = images_by_url([relative, absolute, relative, "/media/articles/hero/later.png"])
    assert found == {relative: png, absolute: jpeg}


def test_urls_that_do_not_name_a_stored_image_are_absent(png, settings):
    settings.MEDIA_URL = "/media/"
    settings.SITE_URL = "https://clinic.example"
    sha = png.sha256
    unresolved = [
        "/media/articles/hero/later.png",  # the uploader's name, in an old folder
        "/media/images/later.png",
        f"/media/images/{sha}.jpeg",  # right hash, wrong format
        f"/media/images/{'0' * 64}.png",  # the shape of a stored name, but nothing stored
        f"/media/images/{sha.upper()}.png",
        f"/media/images/{sha}.png?v=2",
        f"/media/images/{sha}.png#x",
        f"/media/images/../images/{sha}.png",
        f"/media//images/{sha}.png",
        f"images/{sha}.png",  # not an address
        f"https://evil.example/media/images/{sha}.png",
        f"http://clinic.example/media/images/{sha}.png",  # another origin than SITE_URL
        "",
    ]
    assert images_by_url(unresolved) == {}


def test_no_query_when_nothing_could_resolve(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert images_by_url(["https://example.com/a.png", "/media/articles/inline/x.png"]) == {}


def test_an_absolute_media_url_is_the_only_prefix(png, settings):
    settings.MEDIA_URL = "https://cdn.clinic.example/media/"
    settings.SITE_URL = "https://clinic.example"
    url = f"https://cdn.clinic.example/media/{png.file.name}"
    assert images_by_url([url, f"https://clinic.example/media/{png.file.name}"]) == {url: png}
