"""Physician reviewers and their decisions on article revisions."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils import timezone


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ReviewerQuerySet(models.QuerySet):
    def active(self) -> ReviewerQuerySet:
        return self.filter(active=True, user__is_active=True)


class Reviewer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviewer_profile"
    )
    display_name = models.CharField(max_length=200, help_text="As printed in the byline.")
    credentials = models.CharField(
        max_length=100, help_text="Post-nominal letters, e.g. “M.D.”, “D.O.”, “Psy.D.”."
    )
    title = models.CharField(max_length=200, blank=True, help_text="e.g. “Chief Medical Officer”.")
    board_certifications = models.TextField(blank=True, help_text="One per line.")
    specialties = models.TextField(blank=True, help_text="One per line.")
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to="reviewers/", blank=True)
    photo_alt = models.CharField("photo description", max_length=300, blank=True)
    slug = models.SlugField(unique=True)
    active = models.BooleanField(
        default=True, help_text="Only active reviewers may approve or request changes."
    )

    objects = ReviewerQuerySet.as_manager()

    # Set on the reviewer index only (articles.views_reviewers.reviewer_index): how many
    # published articles the reviewer signed off.
    article_count: int

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.byline_name

    def get_absolute_url(self) -> str:
        return reverse("reviewers:detail", kwargs={"slug": self.slug})

    @property
    def byline_name(self) -> str:
        return f"{self.display_name}, {self.credentials}" if self.credentials else self.display_name

    def certification_list(self) -> list[str]:
        return _lines(self.board_certifications)

    def specialty_list(self) -> list[str]:
        return _lines(self.specialties)


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Changes requested"


class ReviewQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("A review is a signed record and cannot be changed.")

    def delete(self):
        raise ValueError("A review is a signed record and cannot be deleted.")


class Review(models.Model):
    """One reviewer's decision on one immutable revision. Written once, never edited."""

    revision = models.ForeignKey(
        "articles.Revision", on_delete=models.PROTECT, related_name="reviews"
    )
    reviewer = models.ForeignKey(Reviewer, on_delete=models.PROTECT, related_name="reviews")
    # The account that signed, fixed at signing even if the profile is later reassigned.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    attestation = models.TextField(blank=True, help_text="The attestation text accepted.")
    conflict_of_interest = models.TextField(
        blank=True, help_text="Declared conflicts of interest; empty when none."
    )
    # What was signed, and by whom as they were at that moment.
    revision_hash = models.CharField(max_length=64)
    reviewer_name = models.CharField(max_length=200)
    reviewer_credentials = models.CharField(max_length=100)
    reviewer_title = models.CharField(max_length=200, blank=True)
    reviewer_certifications = models.TextField(blank=True, help_text="One per line, as signed.")
    reviewer_specialties = models.TextField(blank=True, help_text="One per line, as signed.")
    # The photo's stored name: content-addressed, so the picture cannot change later.
    reviewer_photo = models.CharField(max_length=255, blank=True)
    reviewer_photo_alt = models.CharField(max_length=300, blank=True)
    # The signing account's username at the time, for the record.
    signed_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return (
            f"{self.get_decision_display()} by {self.reviewer_name} on {self.created_at:%Y-%m-%d}"
        )

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("A review is a signed record and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A review is a signed record and cannot be deleted.")

    @property
    def byline_name(self) -> str:
        return f"{self.reviewer_name}, {self.reviewer_credentials}"

    def certification_list(self) -> list[str]:
        return _lines(self.reviewer_certifications)

    def specialty_list(self) -> list[str]:
        return _lines(self.reviewer_specialties)

    @property
    def photo_url(self) -> str:
        return default_storage.url(self.reviewer_photo) if self.reviewer_photo else ""
