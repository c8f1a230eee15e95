"""Physician reviewers: who may sign off articles, as their public profile shows them.

A reviewer's decisions on revisions are the workflow's records (`articles.models.Review`);
this app knows no article and imports nothing from `articles` (see architecture.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


def one_per_line(text: str) -> list[str]:
    """The non-empty lines of a "one per line" field (a review's frozen card reads the same)."""
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
        return one_per_line(self.board_certifications)

    def specialty_list(self) -> list[str]:
        return one_per_line(self.specialties)
