"""Image uploads from the Markdown editor: stored content-addressed by images.services.

The client's content type and file name are not consulted at all: the picture must decode
as JPEG, PNG, GIF or WebP within the size limits, it is re-encoded (dropping metadata such
as a photo's GPS position and anything appended to the file) and stored as
`images/<sha256>.<ext>`, so an upload can never land at a path an article already names.
"""

from __future__ import annotations

from typing import Any

from django import forms

from images.models import StoredImage
from images.services import store_image


class RasterImageForm(forms.Form):
    image = forms.FileField()

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.stored: StoredImage | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned is None:  # a clean() that returns nothing leaves cleaned_data as it is
            cleaned = self.cleaned_data
        upload = cleaned.get("image")
        if upload is not None:
            # A refusal (ValidationError) becomes the form's error, shown as now.
            self.stored = store_image(upload=upload, actor=self.actor)
        return cleaned

    def image_code(self) -> str:
        """The Markdown the editor inserts: the stored picture at MEDIA_URL + its name."""
        if self.stored is None:
            raise ValueError("image_code() is for a form that is valid: nothing was stored.")
        return f"![]({self.stored.url})"
