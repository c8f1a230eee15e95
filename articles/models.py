"""Articles, their frozen revisions and the reviews that sign them off, categories and the
append-only audit trail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from markdownx.models import MarkdownxField

from reviewers.models import Reviewer, one_per_line


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    review_interval_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Overrides the site's review interval for this category "
        "(drug dosing ages faster than anatomy). Empty: the site default.",
    )

    # Set on the category index only (articles.views.category_index): how many published
    # articles the category lists.
    article_count: int

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:category", kwargs={"slug": self.slug})

    def clean(self) -> None:
        # A category may only shorten the site's interval: lengthening it would quietly
        # turn expired approvals current again.
        site = settings.REVIEW_INTERVAL_DAYS
        if self.review_interval_days and self.review_interval_days > site:
            raise ValidationError(
                {"review_interval_days": f"At most the site's interval, {site} days."}
            )

    @property
    def effective_review_interval_days(self) -> int:
        return self.review_interval_days or settings.REVIEW_INTERVAL_DAYS


class FencedExists(models.Exists):
    """EXISTS (…) that PostgreSQL checks row by row instead of joining.

    `OFFSET 0` keeps the planner from pulling the subquery up into a join. Pulled up, the
    approval check below becomes three equalities between the same two rows, which the
    planner takes for independent and multiplies into an estimate of one published article
    in 100,000; it then joins and sorts every article to show ten. Kept as a per-row check
    (one index probe), the lists walk the published-revision indexes in order and stop
    after a page. Same rows either way; only the plan differs.
    """

    template = "EXISTS(%(subquery)s OFFSET 0)"


class ArticleQuerySet(models.QuerySet):
    def published(self) -> ArticleQuerySet:
        """The one way public views reach articles: live on a published, approved revision.

        Everything a public page shows about an article comes from its live revision and
        that revision's approving review, fetched here in the same query.
        """
        # The approval must be of this exact revision and content, whatever wrote the row:
        # a defence in depth behind the workflow's own checks.
        approved = Review.objects.filter(
            pk=models.OuterRef("live_revision__approval_id"),
            revision_id=models.OuterRef("live_revision_id"),
            decision=Decision.APPROVE,
            revision_hash=models.OuterRef("live_revision__content_hash"),
        )
        return (
            self.filter(
                FencedExists(approved),
                live_revision__isnull=False,
                live_revision__status=RevisionStatus.PUBLISHED,
            )
            .select_related(
                "live_revision",
                "live_revision__category",
                "live_revision__approval",
                "live_revision__approval__reviewer",
            )
            .order_by("-live_revision__published_at", "-pk")
        )

    def published_count_by(self, field: str) -> dict[int, int]:
        """How many published articles share each value of `field` (a category, a
        reviewer), counted by the database: {value: count}, values with none left out."""
        return dict(
            self.published()
            .order_by()
            .values_list(field)
            .annotate(n=models.Count("pk"))
            .values_list(field, "n")
        )

    def for_lists(self, *, keep: tuple[str, ...] = ()) -> ArticleQuerySet:
        """Published articles as every list shows them (home, categories, reviewers,
        related articles, feeds, the sitemap, search, the overdue list): without the
        working copy or the text of each live revision, but for the columns in `keep`."""
        return self.published().defer(*(name for name in LIST_DEFERRED if name not in keep))


# The live revision's text and its approval's prose: what no list of articles, public or
# staff, loads for every row. One list, so a new heavy column is deferred everywhere.
LIVE_REVISION_TEXT = (
    "live_revision__body",
    "live_revision__rendered_html",
    "live_revision__references_html",
    "live_revision__references_csl",
    "live_revision__toc",
    "live_revision__search_vector",
    "live_revision__approval__comment",
    "live_revision__approval__attestation",
    "live_revision__approval__conflict_of_interest",
)
# What a public list never loads besides: the working copy, which readers never see.
LIST_DEFERRED = (
    "title",
    "summary",
    "body",
    "hero_image",
    "hero_image_alt",
    "unknown_citation_keys",
    "working_hash",
    *LIVE_REVISION_TEXT,
    "live_revision__approval__reviewer__bio",
)


class Article(models.Model):
    """An article's identity and working copy. The public never sees the working copy."""

    slug = models.SlugField(unique=True, max_length=120)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="articles"
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(
        max_length=400, help_text="One or two sentences; shown in lists, feeds and search."
    )
    body = MarkdownxField(
        help_text="Markdown. Cite references as [@key], [@key, p. 12], [@a; @b] or [-@key]."
    )
    hero_image = models.ImageField(upload_to="articles/hero/", blank=True)
    hero_image_alt = models.CharField(
        "hero image description",
        max_length=300,
        blank=True,
        help_text="What the image shows, for readers who cannot see it.",
    )
    cited_references = models.ManyToManyField(
        "references.Reference", blank=True, related_name="cited_by", editable=False
    )
    unknown_citation_keys = models.JSONField(default=list, blank=True, editable=False)
    working_hash = models.CharField(max_length=64, blank=True, editable=False)
    live_revision = models.OneToOneField(
        "Revision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="live_for",
        editable=False,
    )
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped on every save; a form that saw an older version is refused (no lost edits).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    # Set on a page of search results only, by articles.search.add_snippets: the excerpt
    # around what was found, highlighted (safe HTML).
    snippet: SafeString

    class Meta:
        ordering = ["-updated_at"]
        # The admin's changelist order (with Django's tie-breaker): a page of it is read
        # along the index, not sorted out of every article.
        indexes = [models.Index(fields=["-updated_at", "-id"], name="article_updated_idx")]
        permissions = [
            ("submit_article", "Can submit an article for medical review"),
            ("review_article", "Can approve or request changes as a physician reviewer"),
            ("publish_article", "Can publish, schedule and unpublish approved revisions"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", kwargs={"slug": self.slug})

    def latest_revision(self) -> Revision | None:
        return self.revisions.order_by("-number").first()

    @property
    def public_revision(self) -> Revision:
        """The live revision of an article known to be published (one from
        `Article.objects.published()`, as feeds, the sitemap and search list them)."""
        if self.live_revision is None:
            raise ValueError(f"Article {self.pk} is not published: it has no live revision.")
        return self.live_revision


class RevisionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Superseded"


# Content is frozen at submission; only these workflow fields may change afterwards.
REVISION_WORKFLOW_FIELDS = frozenset(
    {"status", "approval", "publish_at", "scheduled_by", "published_at", "search_vector"}
)


class RevisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        frozen = set(kwargs) - REVISION_WORKFLOW_FIELDS
        if frozen:
            raise ValueError(f"Revision content is immutable: cannot update {sorted(frozen)}.")
        return super().update(**kwargs)

    def delete(self):
        raise ValueError("Revisions are part of the review record and cannot be deleted.")


class Revision(models.Model):
    """A frozen snapshot of an article, the unit a physician approves."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField()
    body = models.TextField()
    # Category is reviewed content: it decides where the article is listed and how soon
    # its approval expires, so moving an article is a change a physician signs off.
    category = models.ForeignKey(
        Category, null=True, on_delete=models.PROTECT, related_name="revisions"
    )
    # The review interval in force at submission; expiry uses the shorter of this and the
    # category's interval now, so no later setting can turn an expired approval current.
    review_interval_days = models.PositiveIntegerField(null=True)
    # The author's name as the byline prints it, frozen: renaming an account changes nothing.
    author_name = models.CharField(max_length=300, blank=True)
    # Every image the revision shows (hero and body), by content hash: see images.StoredImage.
    images = models.JSONField(default=list, blank=True)
    references_csl = models.JSONField(
        default=list, help_text="The cited references as CSL-JSON, as they were submitted."
    )
    # The picture and its description are content too: readers see them beside the text.
    hero_image = models.ImageField(upload_to="articles/hero/", blank=True)
    hero_image_alt = models.CharField(max_length=300, blank=True)
    rendered_html = models.TextField()
    references_html = models.TextField(blank=True)
    toc = models.JSONField(default=list, blank=True)
    word_count = models.PositiveIntegerField(default=0)
    citation_style = models.CharField(max_length=10, default="apa")
    content_hash = models.CharField(max_length=64, db_index=True)
    change_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Everyone who changed anything this revision freezes since the last approved one:
    # none of them may approve it (articles.independence decides this).
    contributors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", editable=False
    )

    status = models.CharField(
        max_length=20, choices=RevisionStatus.choices, default=RevisionStatus.PENDING
    )
    approval = models.ForeignKey(
        "Review",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The latest approving review of this exact revision.",
    )
    publish_at = models.DateTimeField(null=True, blank=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_number_unique")
        ]
        indexes = [
            models.Index(fields=["status", "publish_at"], name="revision_due_idx"),
            # The public lists (home, feeds, sitemap; a category's), newest first: walked in
            # order, a page reads its own rows and no others (Article.objects.published()).
            models.Index(
                fields=["-published_at"],
                name="revision_published_idx",
                condition=models.Q(status="published"),
            ),
            models.Index(
                fields=["category", "-published_at"],
                name="revision_cat_published_idx",
                condition=models.Q(status="published"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (revision {self.number})"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= REVISION_WORKFLOW_FIELDS:
                raise ValueError(
                    "Revision content is immutable; save(update_fields=…) may only change "
                    f"{sorted(REVISION_WORKFLOW_FIELDS)}."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Revisions are part of the review record and cannot be deleted.")

    @property
    def reading_minutes(self) -> int:
        return max(1, round(self.word_count / 230))

    def preview_url(self) -> str:
        return reverse(
            "articles:revision_preview",
            kwargs={"slug": self.article.slug, "number": self.number},
        )


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Changes requested"


class ReviewQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("A review is a signed record and cannot be changed.")

    def delete(self):
        raise ValueError("A review is a signed record and cannot be deleted.")


class Review(models.Model):
    """One reviewer's decision on one immutable revision: the physician's signature on it.
    Written once, never edited.

    It lived in the `reviewers` app until articles.0013 moved it here in Django's state
    only: the table keeps its name, rows, constraints, indexes and append-only triggers.
    """

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="reviews")
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
        # The table it has always had (articles.0013 moved the model, not the table).
        db_table = "reviewers_review"
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
        return one_per_line(self.reviewer_certifications)

    def specialty_list(self) -> list[str]:
        return one_per_line(self.reviewer_specialties)

    @property
    def photo_url(self) -> str:
        return default_storage.url(self.reviewer_photo) if self.reviewer_photo else ""


class AuditAction(models.TextChoices):
    SUBMITTED = "submitted", "Submitted for review"
    WITHDRAWN = "withdrawn", "Submission withdrawn"
    APPROVED = "approved", "Approved"
    APPROVAL_REFUSED = "approval_refused", "Approval attempt refused"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    PUBLISHED = "published", "Published"
    SCHEDULED = "scheduled", "Scheduled"
    UNSCHEDULED = "unscheduled", "Schedule cancelled"
    UNPUBLISHED = "unpublished", "Unpublished"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("Audit events are append-only.")

    def delete(self):
        raise ValueError("Audit events are append-only.")

    def append(self, **fields) -> AuditEvent:
        """Add an event at the end of the hash chain (see articles.audit_chain)."""
        from .audit_chain import append_event

        return append_event(**fields)


class AuditEvent(models.Model):
    """One workflow step: who, when, which revision and its hash, any comment. Never changed."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for steps the system took on a schedule.",
    )
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="audit_events")
    revision = models.ForeignKey(
        Revision, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    # Who, as they were named at the time: renaming an account rewrites nothing recorded.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_name = models.CharField(max_length=300, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The chain: each event carries its predecessor's hash and its own (verify_audit).
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, blank=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        who = self.actor_label
        return f"{self.get_action_display()} by {who} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")

    @property
    def actor_label(self) -> str:
        """The actor as recorded: 'Full Name (username)', or 'system' for scheduled steps."""
        if not self.actor_username:
            return "system"
        if self.actor_name:
            return f"{self.actor_name} ({self.actor_username})"
        return self.actor_username


class ContributionKind(models.TextChoices):
    ARTICLE = "article", "Edited the article"
    REFERENCE = "reference", "Edited a cited reference"


class ContributionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("Contributions are a record and cannot be changed.")

    def delete(self):
        raise ValueError("Contributions are a record and cannot be deleted.")


class Contribution(models.Model):
    """Someone changed something a future revision of this article freezes.

    The log behind independence: a revision's contributors are read from it at submission.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="contributions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the change came from outside any account (a shell or script).",
    )
    username = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=20, choices=ContributionKind.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ContributionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.username or 'unknown'}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Contributions are a record and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Contributions are a record and cannot be deleted.")


class AuditVerificationQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("Verification results are a record and cannot be changed.")

    def delete(self):
        raise ValueError("Verification results are a record and cannot be deleted.")


class AuditVerification(models.Model):
    """One run of verify_audit: the admin home shows when the chain last verified clean.

    Each clean run also anchors the chain head it saw: a later run that cannot find that
    head again has found history cut off at the end.
    """

    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField()
    events_checked = models.PositiveIntegerField(default=0)
    head_event_id = models.BigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    problem = models.TextField(blank=True)

    objects = AuditVerificationQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"{'Clean' if self.ok else 'BROKEN'} at {self.checked_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Verification results are a record and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Verification results are a record and cannot be deleted.")
