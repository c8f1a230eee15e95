"""images.services.store_image: decode under limits, re-encode, store by content hash.

The admin paths are exercised end to end in test_admin_uploads.py; this file pins the
store's own rules, each one as a class of input rather than one file.
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image, ImageCms, ImageFile

from images.models import StoredImage
from images.services import MAX_FRAMES, MAX_PIXELS, MAX_UPLOAD_BYTES, store_image
from tests.builders import (
    SECRET_COMMENT,
    encode,
    jpeg_with_secrets,
    noise_png,
    picture,
    png_claiming,
    stored_files,
    upload,
)
from tests.db_role_plugin import owner_privileges

pytestmark = pytest.mark.django_db

STORED = r"images/[0-9a-f]{64}\.(jpeg|png|gif|webp)"


def store(content: bytes, name: str = "picture.png", actor=None) -> StoredImage:
    return store_image(upload=upload(name, content), actor=actor)


def refused(content: bytes, media_root, name: str = "picture.png") -> str:
    """Store `content`, expect a refusal; check nothing was written; return the message."""
    before = (StoredImage.objects.count(), stored_files(media_root))
    with pytest.raises(ValidationError) as refusal:
        store(content, name)
    assert (StoredImage.objects.count(), stored_files(media_root)) == before
    (message,) = refusal.value.messages
    return message


# --- What is stored --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "extension"),
    [("JPEG", "jpeg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp")],
)
def test_each_accepted_format_is_stored_under_its_hash(media_root, writer, image_format, extension):
    image = store(picture(image_format), name="whatever.bin", actor=writer)
    data = (media_root / image.file.name).read_bytes()
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.file.name == f"images/{image.sha256}.{extension}"
    assert (image.format, image.width, image.height) == (extension, 16, 12)
    assert image.size_bytes == len(data)
    assert image.uploaded_by == writer
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == image_format


def test_as_frozen_is_json_and_names_the_picture(media_root):
    image = store(picture("PNG"))
    frozen = image.as_frozen()
    assert json.loads(json.dumps(frozen)) == frozen
    assert frozen == {
        "path": image.file.name,
        "sha256": image.sha256,
        "format": "png",
        "width": 16,
        "height": 12,
    }


def test_a_phone_photo_loses_gps_comment_xmp_and_camera_but_keeps_its_orientation(media_root):
    original = jpeg_with_secrets(size=(40, 20), orientation=6)
    assert SECRET_COMMENT in original and b"Clinic Phone" in original
    image = store(original, name="IMG_0001.JPG")
    data = (media_root / image.file.name).read_bytes()
    for secret in (SECRET_COMMENT, b"Jane Doe", b"MRN", b"Clinic Phone", b"Exif\x00\x00", b"xmp"):
        assert secret not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG"
        assert "exif" not in stored.info
        assert "comment" not in stored.info
        assert "xmp" not in stored.info
        assert len(stored.getexif()) == 0
        # Orientation 6 (turned 90° clockwise) is applied to the pixels, then dropped.
        assert stored.size == (20, 40)
        red_half = stored.convert("RGB").getpixel((10, 5))
        blue_half = stored.convert("RGB").getpixel((10, 35))
    assert red_half[0] > 200 and red_half[2] < 60
    assert blue_half[2] > 200 and blue_half[0] < 60
    assert (image.width, image.height) == (20, 40)


def test_png_text_exif_and_icc_chunks_are_dropped(media_root):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "Patient Jane Doe, MRN 12345")
    info.add_itxt("Description", "Jane Doe", lang="en")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0110] = "Clinic Phone 12"
    content = encode(
        Image.new("RGB", (8, 8), (10, 120, 30)),
        "PNG",
        pnginfo=info,
        icc_profile=srgb,
        exif=exif.tobytes(),
    )
    image = store(content)
    data = (media_root / image.file.name).read_bytes()
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP", b"Jane Doe", b"Clinic Phone"):
        assert chunk not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert "icc_profile" not in stored.info
        assert stored.convert("RGB").getpixel((0, 0)) == pytest.approx((10, 120, 30), abs=2)


def test_an_unusable_icc_profile_is_dropped_not_fatal(media_root):
    content = encode(Image.new("RGB", (8, 8), (1, 2, 3)), "JPEG", icc_profile=b"not a profile")
    image = store(content, name="x.jpg")
    with Image.open(media_root / image.file.name) as stored:
        assert "icc_profile" not in stored.info


def test_a_cmyk_jpeg_is_stored_as_rgb(media_root):
    image = store(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"), name="x.jpg")
    with Image.open(media_root / image.file.name) as stored:
        assert stored.mode == "RGB"


@pytest.mark.parametrize(
    ("image_format", "trailer"),
    [
        ("PNG", b"<script>alert(document.cookie)</script>"),
        ("JPEG", b"PK\x03\x04zip-archive-appended-after-the-image"),
        ("GIF", b"<html><script>alert(1)</script></html>"),
        ("WEBP", b"<?php system($_GET['c']); ?>"),
    ],
)
def test_bytes_appended_after_the_image_are_gone(media_root, image_format, trailer):
    image = store(picture(image_format) + trailer)
    data = (media_root / image.file.name).read_bytes()
    assert trailer not in data
    assert trailer[:5] not in data


def test_animation_is_kept_without_its_comment(media_root):
    frames = [Image.new("RGB", (20, 10), (60 * i, 0, 0)) for i in range(4)]
    content = encode(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300, 400],
        loop=0,
        comment=SECRET_COMMENT,
    )
    image = store(content, name="anim.gif")
    data = (media_root / image.file.name).read_bytes()
    assert SECRET_COMMENT not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.n_frames == 4
        durations, reds = [], []
        for index in range(4):
            stored.seek(index)
            durations.append(stored.info["duration"])
            reds.append(stored.convert("RGB").getpixel((0, 0))[0])
    assert durations == [100, 200, 300, 400]
    assert reds == [0, 60, 120, 180]


# --- Same bytes, same name; nothing overwritten ----------------------------------------


def test_the_same_picture_twice_is_one_file_and_one_row(media_root, writer, editor):
    content = picture("PNG")
    first = store(content, name="first.png", actor=writer)
    second = store(content, name="second.png", actor=editor)
    assert second.pk == first.pk
    assert second.uploaded_by == writer  # the first upload is the record
    assert StoredImage.objects.count() == 1
    assert list(stored_files(media_root)) == [first.file.name]


def test_reencoding_is_deterministic_for_every_format(media_root):
    for image_format in ("JPEG", "PNG", "GIF", "WEBP"):
        content = jpeg_with_secrets() if image_format == "JPEG" else picture(image_format)
        assert store(content).pk == store(content).pk


def test_an_identical_file_already_in_place_is_reused_not_rewritten(media_root):
    content = picture("PNG")
    name = store(content).file.name
    # As after a transaction rolled back: the file is there, the row is not.
    with owner_privileges():  # set-up only the owner may do: rows are append-only
        StoredImage.objects.filter(file=name)._raw_delete(StoredImage.objects.db)
    path = media_root / name
    before = path.stat()
    image = store(content)
    after = path.stat()
    assert image.file.name == name
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_different_file_at_the_name_is_never_overwritten(media_root):
    content = picture("PNG")
    name = store(content).file.name
    with owner_privileges():  # set-up only the owner may do: rows are append-only
        StoredImage.objects.filter(file=name)._raw_delete(StoredImage.objects.db)
    swapped = picture("PNG", color=(0, 0, 0))
    (media_root / name).write_bytes(swapped)
    message = refused(content, media_root)
    assert "stored copy of this picture is damaged" in message
    assert "verify_images" in message
    assert (media_root / name).read_bytes() == swapped


def test_a_concurrent_store_of_the_same_picture_leaves_one_file(media_root, monkeypatch):
    """Another request stores the same picture between our check and our write: the
    storage keeps theirs under the name and gives ours another, which is removed."""
    content = picture("PNG")
    name = store(content).file.name
    with owner_privileges():  # set-up only the owner may do: rows are append-only
        StoredImage.objects.filter(file=name)._raw_delete(StoredImage.objects.db)
    storage_class = type(default_storage._wrapped)
    real_exists = storage_class.exists
    asked = []

    def exists_not_yet(self, path):
        asked.append(path)
        return False if len(asked) == 1 else real_exists(self, path)

    monkeypatch.setattr(storage_class, "exists", exists_not_yet)
    image = store(content)
    assert asked[0] == name
    assert image.file.name == name
    assert list(stored_files(media_root)) == [name]


# --- Refusals --------------------------------------------------------------------------


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any pixel data is decoded."""

    def load(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.mark.parametrize(
    ("width", "height", "megapixels"),
    [(12_000, 12_000, "144"), (20_000, 20_000, "400"), (40_001, 1_000, "40.1")],
    ids=["144MP", "400MP-beyond-pillows-own-limit", "just-over"],
)
def test_too_many_pixels_is_refused_without_decoding(
    media_root, no_decoding, width, height, megapixels
):
    message = refused(png_claiming(width, height), media_root)
    assert message == f"This picture is {megapixels} megapixels; upload one under 40 megapixels."


def test_the_pixel_limit_is_forty_megapixels():
    assert MAX_PIXELS == 40_000_000
    assert MAX_UPLOAD_BYTES == 5 * 1024 * 1024


def test_an_animation_within_the_frame_size_but_over_the_pixel_budget_is_refused(media_root):
    side = 1_000
    frames = [Image.new("L", (side, side), i) for i in range(41)]
    content = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    message = refused(content, media_root)
    assert message == (
        "This animation is 41 megapixels over its 41 frames; upload one under 40 megapixels in all."
    )


def test_too_many_frames_is_refused(media_root):
    frames = [Image.new("L", (1, 1), i % 256) for i in range(MAX_FRAMES + 1)]
    content = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    message = refused(content, media_root)
    assert message == f"This animation has {MAX_FRAMES + 1} frames; upload one with at most 500."


def test_a_file_over_five_megabytes_is_refused(media_root):
    content = noise_png(6 * 1024 * 1024)
    message = refused(content, media_root)
    assert message.startswith("This file is 6.")
    assert message.endswith(" MB; upload one under 5 MB.")


def test_a_declared_size_is_not_trusted(media_root):
    """A file object that under-reports its size is still read only up to the limit."""
    content = noise_png(MAX_UPLOAD_BYTES + 10)
    lying = upload("x.png", content)
    lying.size = 10
    with pytest.raises(ValidationError, match="upload one under 5 MB"):
        store_image(upload=lying, actor=None)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9"/></svg>'


@pytest.mark.parametrize(
    "content",
    [
        SVG,
        b'<?xml version="1.0"?>' + SVG,
        b"<!doctype html><script>alert(1)</script>",
        b"%PDF-1.7\n",
        b"",
        encode(Image.new("RGB", (4, 4)), "BMP"),
        encode(Image.new("RGB", (4, 4)), "TIFF"),
        encode(Image.new("RGB", (4, 4)), "ICO"),
        b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>",
        b"GIF89a<script>alert(1)</script>",
    ],
    ids=["svg", "svg-xml", "html", "pdf", "empty", "bmp", "tiff", "ico", "jpeg-magic", "gif-magic"],
)
def test_anything_but_jpeg_png_gif_webp_is_refused(media_root, content):
    message = refused(content, media_root, name="picture.png")
    assert "JPEG, PNG, GIF or WebP" in message


def test_a_truncated_picture_is_refused_as_damaged(media_root):
    content = noise_png(200_000)[:100_000]
    message = refused(content, media_root)
    assert message.startswith("This picture is damaged or incomplete")
