"""Image uploads from the Markdown editor: raster images only, checked by decoding them.

The client's content type and file name are not trusted: Pillow must decode the file as
JPEG, PNG, GIF or WebP, and the stored name's extension comes from what it decoded.
Every image is re-encoded, which also drops metadata such as a photo's GPS position.
"""

from django.core.exceptions import ValidationError
from markdownx.forms import ImageForm
from PIL import Image, UnidentifiedImageError

# Resizing decodes the whole picture in memory; 40 MP is ~160 MB, far above any photo need.
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


class RasterImageForm(ImageForm):
    def clean(self):
        upload = super().clean()
        try:
            with Image.open(upload) as image:
                image_format = image.format
                pixels = image.width * image.height
                image.verify()
        except Image.DecompressionBombError:
            raise ValidationError(
                "This picture is too large to process: upload one under 40 megapixels."
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError(
                "This file is not an image we accept: upload a JPEG, PNG, GIF or WebP picture."
            ) from None
        finally:
            upload.seek(0)
        if pixels > MAX_PIXELS:
            raise ValidationError(
                "This picture is too large to process: upload one under 40 megapixels."
            )
        if image_format not in ALLOWED_FORMATS:
            raise ValidationError(
                f"{image_format} images are not accepted: upload a JPEG, PNG, GIF or WebP picture."
            )
        extension = ALLOWED_FORMATS[image_format]
        upload.content_type = f"image/{extension}"
        upload.name = f"image.{extension}"
        return upload
