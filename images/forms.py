"""Model forms whose image fields hold content-addressed pictures.

A new upload is checked and re-encoded while the form validates (a refused picture is an
error on its field, and nothing is written); once the whole form is valid, `save()` stores
it and the field holds the stored name, `images/<sha256>.<ext>`. The client's file name,
extension and content type are never used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from .services import PreparedImage, prepare_image, save_prepared

ACCEPT = "image/jpeg,image/png,image/gif,image/webp"


class UploadedPictureField(forms.FileField):
    """A FileField for pictures that leaves judging the file to `images.services`.

    Django's ImageField would refuse a PNG named `doc.pdf` by its extension and limit the
    length of the client's file name; neither matters once the picture is re-encoded and
    renamed by its hash.
    """

    def __init__(self, *args, **kwargs):
        kwargs.pop("max_length", None)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", ACCEPT)


if TYPE_CHECKING:
    from django.contrib.auth.models import User

    # What the mixin is mixed into, so its super() calls are checked against ModelForm.
    _ModelForm = forms.ModelForm
else:
    _ModelForm = object


class StoredImageFormMixin(_ModelForm):
    """Mix into a ModelForm before `forms.ModelForm`; list the fields in `stored_image_fields`
    and give them `UploadedPictureField` (`Meta.field_classes`).

    `uploaded_by` is the account recorded on newly stored pictures; the admin sets it on
    the form class it builds for each request (`get_form`).
    """

    stored_image_fields: tuple[str, ...] = ()
    uploaded_by: User | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned is None:  # a clean() that returns nothing leaves cleaned_data as it is
            cleaned = self.cleaned_data
        self._prepared_images: dict[str, PreparedImage] = {}
        for name in self.stored_image_fields:
            upload = cleaned.get(name)
            if not isinstance(upload, UploadedFile):
                continue  # unchanged, cleared or empty
            try:
                prepared = prepare_image(upload=upload)
            except ValidationError as refusal:
                self.add_error(name, refusal)
                continue
            self._prepared_images[name] = prepared
            cleaned[name] = prepared.name
        return cleaned

    def store_images(self) -> None:
        """Write the pictures this valid form received (idempotent)."""
        for prepared in getattr(self, "_prepared_images", {}).values():
            save_prepared(prepared, actor=self.uploaded_by)

    def save(self, commit: bool = True) -> Any:
        self.store_images()
        return super().save(commit)
