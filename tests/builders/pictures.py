"""Pictures for the image tests, built in memory, and a view of what storage holds.

Import from ``tests.builders``.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

SECRET_COMMENT = b"Patient Jane Doe, MRN 12345"
SECRET_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Jane Doe lives at 12 Elm St</x:xmpmeta>'
# Degrees, minutes, seconds: somewhere in Los Angeles.
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (34.0, 3.0, 7.5),
    ExifTags.GPS.GPSLongitudeRef: "W",
    ExifTags.GPS.GPSLongitude: (118.0, 14.0, 31.2),
}


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def picture(image_format: str = "PNG", size=(16, 12), color=(200, 40, 90)) -> bytes:
    return encode(Image.new("RGB", size, color), image_format)


def jpeg_with_secrets(size=(40, 20), orientation: int | None = 6) -> bytes:
    """A phone photo as it leaves the phone: GPS position, a comment naming a patient, XMP,
    a camera model and an orientation tag (6: the camera was turned, show it rotated)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Clinic Phone 12"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    # Left half red, right half blue: the orientation is visible in the pixels.
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return encode(image, "JPEG", exif=exif.tobytes(), comment=SECRET_COMMENT, xmp=SECRET_XMP)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header claiming a huge canvas, with almost no data: cheap to make, and enough
    for Pillow to report the size without allocating anything."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def noise_png(at_least: int) -> bytes:
    """A genuine PNG of incompressible noise, at least `at_least` bytes long."""
    side = int((at_least / 3) ** 0.5) + 64
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    content = encode(image, "PNG", compress_level=0)
    assert len(content) > at_least
    return content


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_paths(root: Path) -> list[Path]:
    """Every file under the media root."""
    return [Path(dirpath) / name for dirpath, _, names in os.walk(root) for name in names]


def stored_files(root: Path) -> dict[str, str]:
    """Every file under the media root, as relative path → SHA-256 of its bytes."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in stored_paths(root)
    }
