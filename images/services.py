"""Store an uploaded picture safely: decode under limits, re-encode, name it by its hash.

Every upload path (the Markdown editor, the article's hero image, a reviewer's photo) goes
through `store_image`. What is stored is never the uploader's bytes but a fresh encoding
of the decoded pixels, so nothing rides along: no EXIF (GPS position, camera serial,
dates), no comments, no XMP, no ICC profile, nothing appended after the image data. The
extension comes from the decoded format, and the name from the SHA-256 of the stored
bytes, so a stored name never changes meaning and a file is never overwritten or renamed.

Colour: an embedded ICC profile is applied (pixels are converted to sRGB) and then
dropped. Phone photos are often Display P3, and dropping the profile without converting
would dull them; keeping it would keep a free-text blob (profile descriptions, private
tags) that every browser parses. sRGB is what browsers assume for untagged images.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from PIL import Image, ImageCms, ImageSequence

from .models import ImageFormat, StoredImage

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Decoding holds every pixel in memory (4 bytes each): 40 MP is ~160 MB, far above any need.
MAX_PIXELS = 40_000_000
# An animation costs its frames; the pixel budget covers all of them together.
MAX_FRAMES = 500

STORE_PREFIX = "images/"
STORED_NAME = re.compile(r"images/(?P<sha256>[0-9a-f]{64})\.(?P<ext>jpeg|png|gif|webp)")

# Pillow format name → our format. MPO is how Pillow opens a JPEG that carries extra
# pictures (a depth map, a preview); only its first picture is kept.
_FORMATS = {
    "JPEG": ImageFormat.JPEG,
    "MPO": ImageFormat.JPEG,
    "PNG": ImageFormat.PNG,
    "GIF": ImageFormat.GIF,
    "WEBP": ImageFormat.WEBP,
}
# Only these decoders ever see an upload.
_DECODERS = ["JPEG", "PNG", "GIF", "WEBP"]
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)

# EXIF orientation → the transpose that makes the pixels upright (as ImageOps.exif_transpose).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112

_ACCEPTED = "upload a JPEG, PNG, GIF or WebP picture"


@dataclass(frozen=True)
class PreparedImage:
    """A picture decoded, checked and re-encoded, not yet stored."""

    data: bytes
    sha256: str
    format: str
    width: int
    height: int

    @property
    def name(self) -> str:
        """The storage name it will have: `images/<sha256>.<ext>`."""
        return f"{STORE_PREFIX}{self.sha256}.{self.format}"

    def row(self) -> dict:
        """The StoredImage fields that describe it (all but the uploader and the time)."""
        return {
            "sha256": self.sha256,
            "file": self.name,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "size_bytes": len(self.data),
        }


def store_image(*, upload: File | IO[bytes], actor: User | None) -> StoredImage:
    """Decode, check, re-encode and store an uploaded picture; return its StoredImage.

    The same picture uploaded twice is one file and one row. Raises ValidationError with
    a message naming the problem and the limit when the upload is refused; nothing is
    written then.
    """
    return save_prepared(prepare_image(upload=upload), actor=actor)


def prepare_image(*, upload: File | IO[bytes]) -> PreparedImage:
    """Everything `store_image` does short of writing: no file, no row.

    Forms call this while validating (so a refused picture is a field error) and
    `save_prepared` once the whole form is valid.
    """
    data = _read_limited(upload)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own (higher) limit; ours is checked just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_DECODERS)
    except Image.DecompressionBombError as error:
        raise ValidationError(_too_many_pixels(_pixels_from(error))) from None
    except (Image.UnidentifiedImageError, *_DECODE_ERRORS):
        raise ValidationError(
            f"This file is not a picture we accept (SVG and other formats are not): {_ACCEPTED}."
        ) from None
    with image:
        image_format = _FORMATS.get(image.format or "")
        if image_format is None:  # pragma: no cover - the decoders above are all listed
            raise ValidationError(f"{image.format} pictures are not accepted: {_ACCEPTED}.")
        frames = _frame_count(image)
        pixels = image.width * image.height
        if pixels > MAX_PIXELS:
            raise ValidationError(_too_many_pixels(pixels))
        if frames > MAX_FRAMES:
            raise ValidationError(
                f"This animation has {frames} frames; upload one with at most {MAX_FRAMES}."
            )
        if pixels * frames > MAX_PIXELS:
            raise ValidationError(
                f"This animation is {_megapixels(pixels * frames)} megapixels over its "
                f"{frames} frames; upload one under {MAX_PIXELS // 1_000_000} megapixels in all."
            )
        try:
            pictures, durations, loop = _decode(image, frames)
        except Image.DecompressionBombError as error:
            raise ValidationError(_too_many_pixels(_pixels_from(error))) from None
        except _DECODE_ERRORS:
            raise ValidationError(
                "This picture is damaged or incomplete and could not be read: "
                "save or export it again and upload the new file."
            ) from None
        try:
            encoded = _encode(pictures, durations, loop, image_format)
        except (OSError, ValueError):
            logger.exception("Could not re-encode an accepted %s upload.", image_format)
            raise ValidationError(
                f"This {image_format.upper()} picture could not be processed: "
                "save it as a JPEG or PNG and upload that."
            ) from None
    return PreparedImage(
        data=encoded,
        sha256=hashlib.sha256(encoded).hexdigest(),
        format=image_format,
        width=pictures[0].width,
        height=pictures[0].height,
    )


def save_prepared(prepared: PreparedImage, *, actor: User | None) -> StoredImage:
    """Write a prepared picture under its content-addressed name (never over an existing
    file) and return its row, creating it if needed."""
    write_prepared(prepared)
    fields = prepared.row()
    image, _ = StoredImage.objects.get_or_create(
        sha256=fields.pop("sha256"), defaults={**fields, "uploaded_by": actor}
    )
    return image


def write_prepared(prepared: PreparedImage) -> None:
    """Put the bytes at `images/<sha256>.<ext>` unless a file is there already.

    An existing file is left alone; it must hold exactly these bytes, else the upload is
    refused (someone swapped it: `manage.py verify_images` reports such files).
    """
    name = prepared.name
    if default_storage.exists(name):
        _check_existing(prepared)
        return
    saved_as = default_storage.save(name, ContentFile(prepared.data))
    if saved_as != name:
        # Another request stored the same picture between our check and our write, and the
        # storage picked a new name for ours rather than overwrite: keep theirs only.
        default_storage.delete(saved_as)
        _check_existing(prepared)


def file_sha256(name: str) -> str:
    """SHA-256 of a stored file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as stored:
        for chunk in iter(lambda: stored.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_existing(prepared: PreparedImage) -> None:
    if file_sha256(prepared.name) != prepared.sha256:
        logger.error(
            "Stored image %s does not match its name's SHA-256; it was not overwritten.",
            prepared.name,
        )
        raise ValidationError(
            "The stored copy of this picture is damaged, so it was not used: ask an "
            "administrator to run “manage.py verify_images”."
        )


# --- Reading and checking --------------------------------------------------------------


def _read_limited(upload: File | IO[bytes]) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(_too_large(size))
    if hasattr(upload, "seek"):
        upload.seek(0)
    # Never trust a declared size: read one byte past the limit at most.
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(_too_large(size or len(data)))
    if not data:
        raise ValidationError(f"The file is empty: {_ACCEPTED}.")
    return data


def _too_large(size: int) -> str:
    limit = MAX_UPLOAD_BYTES // (1024 * 1024)
    return f"This file is {_one_decimal(size / (1024 * 1024))} MB; upload one under {limit} MB."


def _too_many_pixels(pixels: int | None) -> str:
    limit = MAX_PIXELS // 1_000_000
    if pixels is None:
        return f"This picture is too large to process; upload one under {limit} megapixels."
    return f"This picture is {_megapixels(pixels)} megapixels; upload one under {limit} megapixels."


def _megapixels(pixels: int) -> str:
    return _one_decimal(pixels / 1_000_000)


def _one_decimal(value: float) -> str:
    """Rounded up to one decimal, without a trailing .0: just over a limit never reads as it."""
    return f"{math.ceil(value * 10) / 10:g}"


def _pixels_from(error: Exception) -> int | None:
    # Pillow refuses pictures far above its own limit before we see their size; its message
    # says "Image size (N pixels) exceeds limit …".
    match = re.search(r"\((\d+) pixels\)", str(error))
    return int(match.group(1)) if match else None


def _frame_count(image: Image.Image) -> int:
    if image.format == "MPO":
        return 1  # extra pictures in a JPEG are dropped, not animated
    # Counting seeks through frame headers without decoding them.
    return max(1, int(getattr(image, "n_frames", 1)))


# --- Re-encoding -----------------------------------------------------------------------


def _decode(image: Image.Image, frames: int) -> tuple[list[Image.Image], list[int], int | None]:
    """The decoded frames, upright and in sRGB, with no metadata attached; their durations
    (ms) and the loop count, the only things an animation keeps."""
    transpose = _ORIENTATION.get(_orientation(image))
    loop = image.info.get("loop")
    pictures: list[Image.Image] = []
    durations: list[int] = []
    sequence = [image] if frames == 1 else ImageSequence.Iterator(image)
    for frame in sequence:
        frame.load()
        durations.append(int(frame.info.get("duration", 0) or 0))
        picture = _to_srgb(frame)
        if transpose is not None:
            picture = picture.transpose(transpose)
        # A still picture is ours to strip in place; an animation's frame object is reused.
        pictures.append(_bare(picture, frame, in_place=frames == 1))
        if len(pictures) >= frames:
            break
    return pictures, durations, loop


def _encode(
    pictures: list[Image.Image], durations: list[int], loop: int | None, image_format: str
) -> bytes:
    """Fresh bytes in the format the picture came in; the same pixels give the same bytes."""
    first, rest = pictures[0], pictures[1:]
    animation: dict = {}
    if rest:
        animation = {"save_all": True, "append_images": rest, "duration": durations}
        if loop is not None:
            animation["loop"] = loop
    output = io.BytesIO()
    if image_format == ImageFormat.JPEG:
        if first.mode not in ("L", "RGB"):
            first = _bare(first.convert("RGB"), first)
        first.save(output, "JPEG", quality=90, optimize=True)
    elif image_format == ImageFormat.PNG:
        first.save(output, "PNG", **animation)
    elif image_format == ImageFormat.GIF:
        if rest:
            # Pillow hands out whole composited frames: each one replaces the last.
            animation["disposal"] = 2
        first.save(output, "GIF", **animation)
    else:
        # libwebp's slower methods take ~8 s on 40 MP for a few percent of size; method 2
        # takes ~1 s. It can overflow its first partition on large detailed pictures, and
        # then the default method, which does not, is used.
        try:
            first.save(output, "WEBP", quality=90, method=2, **animation)
        except ValueError:
            output = io.BytesIO()
            first.save(output, "WEBP", quality=90, **animation)
    return output.getvalue()


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except (*_DECODE_ERRORS, TypeError):
        return 1  # unreadable EXIF: no orientation to apply, and it is dropped anyway


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(frame: Image.Image) -> Image.Image:
    """The frame's pixels in sRGB when it carries an ICC profile we can apply."""
    icc = frame.info.get("icc_profile")
    if frame.mode == "CMYK":
        target = "RGB"
    elif frame.mode in ("RGB", "RGBA"):
        target = frame.mode
    else:
        return frame
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(frame, profile, _SRGB, outputMode=target)
        except (ImageCms.PyCMSError, *_DECODE_ERRORS, TypeError):
            logger.info("Ignoring an unusable ICC profile in an uploaded picture.")
        else:
            if converted is not None:
                return converted
    return frame.convert(target) if target != frame.mode else frame


def _bare(picture: Image.Image, source: Image.Image, *, in_place: bool = False) -> Image.Image:
    """The picture with no metadata attached: Pillow's encoders write some of `info` back
    (a JPEG's comment, a PNG's ICC profile), so only palette transparency is kept."""
    if picture is source and not in_place:
        picture = picture.copy()
    transparency = source.info.get("transparency") if picture.mode in ("P", "L", "RGB") else None
    picture.info = {} if transparency is None else {"transparency": transparency}
    return picture
