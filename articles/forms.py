"""Admin forms for the article working copy and the workflow steps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinic_site.text import CleanCharField
from images.forms import StoredImageFormMixin, UploadedPictureField

from . import scheduling
from .models import Article
from .workflow import ATTESTATION_TEXT


class ArticleAdminForm(StoredImageFormMixin, forms.ModelForm):
    # The version the editor loaded; a save from an older version is refused, not merged.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # A new hero image is re-encoded and stored under its hash (images.services); the
    # article then names that content-addressed file, never the uploader's file name.
    stored_image_fields = ("hero_image",)

    class Meta:
        model = Article
        fields = ["title", "slug", "category", "summary", "body", "hero_image", "hero_image_alt"]
        field_classes = {"hero_image": UploadedPictureField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            # The admin validates inside its transaction; the row lock holds until save.
            current = Article.objects.select_for_update().only("version").get(pk=self.instance.pk)
            if cleaned.get("loaded_version") != current.version:
                raise forms.ValidationError(
                    "Someone else saved this article after you opened it, so your changes were "
                    "not saved. Copy your edits, reload the page and apply them again."
                )
        if cleaned.get("hero_image") and not cleaned.get("hero_image_alt"):
            self.add_error("hero_image_alt", "Describe the image for readers who cannot see it.")
        return cleaned


class SubmitForm(forms.Form):
    change_note = CleanCharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What changed, for the reviewer and the public update history.",
    )


class ApproveForm(forms.Form):
    seen_hash = forms.CharField(widget=forms.HiddenInput)
    attestation = forms.BooleanField(required=False, label=ATTESTATION_TEXT)
    conflict_of_interest = CleanCharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Conflicts of interest",
        help_text="Declare any; leave empty when there are none.",
    )
    comment = CleanCharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password",
        help_text="Your approval is a signature: confirm it with your password.",
    )


class RequestChangesForm(forms.Form):
    comment = CleanCharField(widget=forms.Textarea(attrs={"rows": 4}), label="What needs to change")


class SiteZoneDateTimeField(forms.DateTimeField):
    """A date and time typed and shown in the site's zone (settings.TIME_ZONE), not in
    whatever zone is current: a browser's datetime-local input sends a wall-clock time with
    no zone at all, and the editor may sit hours away from the server."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            # Parse only (as DateTimeField does: ISO 8601, else input_formats); the zone of a
            # naive result is decided below, explicitly, not by the "current" time zone.
            try:
                parsed = parse_datetime(value.strip())
            except ValueError as error:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from error
            value = parsed or BaseTemporalField.to_python(self, value)
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        try:
            return scheduling.aware_in_site_zone(value)
        except scheduling.NotAWallClockTime as refusal:
            raise forms.ValidationError(str(refusal), code="ambiguous_timezone") from refusal

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return scheduling.in_site_zone(value)
        return value


class ScheduleForm(forms.Form):
    publish_at = SiteZoneDateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Named when the form is built, so the page always says the zone in force.
        zone = scheduling.site_time_zone()
        now = scheduling.in_site_zone(timezone.now())
        field = self.fields["publish_at"]
        field.label = f"Publish at ({zone.key})"
        field.help_text = (
            f"Date and time in the site's time zone, {zone.key}, whatever your computer's "
            f"clock says. It is now {now:%Y-%m-%d %H:%M} ({now:%Z}) there."
        )


class CommentForm(forms.Form):
    comment = CleanCharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class UnpublishForm(forms.Form):
    reason = CleanCharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why does it come down?",
        help_text="Recorded in the audit trail and sent to the writer and the editors.",
    )
