"""Admin forms for the article working copy and the workflow steps."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from clinic_site.text import CleanCharField
from images.forms import StoredImageFormMixin, UploadedPictureField

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


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        label="Publish at",
    )

    def clean_publish_at(self):
        value = self.cleaned_data["publish_at"]
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class CommentForm(forms.Form):
    comment = CleanCharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class UnpublishForm(forms.Form):
    reason = CleanCharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why does it come down?",
        help_text="Recorded in the audit trail and sent to the writer and the editors.",
    )
