"""Content-addressed pictures: every image the site shows, stored once under its hash.

A stored image is named `images/<sha256>.<ext>` after the SHA-256 of its (re-encoded)
bytes, so a name can only ever hold one picture: nothing can be uploaded later "into" a
path an approved article already points at, and a revision that freezes a name and hash
freezes the picture itself. Rows are written once by `images.services` and never changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImageFormat(models.TextChoices):
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    GIF = "gif", "GIF"
    WEBP = "webp", "WebP"


class StoredImageQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("Stored images are content-addressed and cannot be changed.")

    def delete(self):
        raise ValueError("Stored images may be frozen into revisions and cannot be deleted.")


class StoredImage(models.Model):
    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    # The storage name, `images/<sha256>.<format>`; written by images.services only.
    file = models.ImageField(upload_to="images/", max_length=100, unique=True, editable=False)
    format = models.CharField(max_length=4, choices=ImageFormat.choices, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    size_bytes = models.PositiveIntegerField(editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text="Empty for pictures moved in by a migration.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = StoredImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.file.name or ""

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Stored images are content-addressed and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Stored images may be frozen into revisions and cannot be deleted.")

    @property
    def url(self) -> str:
        """The address an article body uses for it: MEDIA_URL + the stored name."""
        return f"{settings.MEDIA_URL}{self.file.name}"

    def as_frozen(self) -> dict:
        """What a revision freezes about this picture (JSON-serialisable)."""
        return {
            "path": self.file.name,
            "sha256": self.sha256,
            "format": self.format,
            "width": self.width,
            "height": self.height,
        }
