"""The staff side: writers edit working copies, physicians review revisions, editors publish.

Every workflow button posts to a view here that calls one function in `workflow.py`;
nothing in this module changes workflow state itself.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from markdownx.admin import MarkdownxModelAdmin

from clinic_site.admin_mixins import RecordAdmin, staff_user
from clinic_site.text import CleanTextAdminMixin
from images.forms import StoredImageFormMixin

from . import independence, rules, workflow
from .diff import diff_revisions
from .forms import (
    ApproveForm,
    ArticleAdminForm,
    CommentForm,
    RequestChangesForm,
    ScheduleForm,
    SubmitForm,
    UnpublishForm,
)
from .models import (
    LIVE_REVISION_TEXT,
    Article,
    AuditEvent,
    Category,
    Decision,
    Review,
    Revision,
    RevisionStatus,
)
from .overdue import overdue, review_due_at


@admin.register(Category)
class CategoryAdmin(CleanTextAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "review_interval_days"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class WorkflowStateFilter(admin.SimpleListFilter):
    title = "workflow"
    parameter_name = "workflow"

    def lookups(self, request, model_admin):
        return [
            ("live", "Published"),
            ("pending", "Waiting for review"),
            ("changes", "Changes requested"),
            ("approved", "Approved, not yet live"),
            ("overdue", "Review overdue"),
            ("draft", "Never published"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "live":
            return queryset.filter(live_revision__isnull=False)
        if value == "draft":
            return queryset.filter(live_revision__isnull=True)
        if value == "overdue":
            return queryset.filter(pk__in=overdue().values("pk"))
        statuses = {
            "pending": RevisionStatus.PENDING,
            "changes": RevisionStatus.CHANGES_REQUESTED,
            "approved": RevisionStatus.APPROVED,
        }
        if value in statuses:
            return queryset.filter(revisions__status=statuses[value]).distinct()
        return queryset


def _revision_state(revision: Revision | None, live_revision_id: int | None = None) -> str:
    if revision is None:
        return "Draft (never submitted)"
    status = revision.get_status_display()
    if revision.status == RevisionStatus.PUBLISHED and revision.pk != live_revision_id:
        status = "Published earlier, now off the public site"
    label = f"Revision {revision.number}: {status}"
    if revision.status == RevisionStatus.APPROVED and revision.publish_at:
        label += f", scheduled for {timezone.localtime(revision.publish_at):%Y-%m-%d %H:%M}"
    return label


# Below this many rows an exact count is cheap, and PostgreSQL's estimate can be far off.
ESTIMATE_COUNT_ABOVE = 10_000


def estimated_count(queryset) -> int | None:
    """PostgreSQL's own estimate of the rows in the queryset's table (pg_class.reltuples,
    kept by ANALYZE and autovacuum), for an unfiltered queryset of a table past
    ESTIMATE_COUNT_ABOVE rows; None when an exact count is due: another database, a
    filtered or distinct queryset, a small or never-analysed table."""
    query = queryset.query
    if connection.vendor != "postgresql" or query.where or query.distinct or query.combinator:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < ESTIMATE_COUNT_ABOVE:
        return None
    return int(row[0])


# What the changelist's columns never show: the working copy's text and the live revision's
# frozen content, which would otherwise come with every row (select_related).
CHANGELIST_DEFERRED = (
    "body",
    "summary",
    "unknown_citation_keys",
    "live_revision__summary",
    "live_revision__images",
    *LIVE_REVISION_TEXT,
)


class ArticleChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).defer(*CHANGELIST_DEFERRED)


class EstimatedCountPaginator(Paginator):
    """The changelist's paginator: the whole list's length as PostgreSQL estimates it,
    instead of counting every article on every load; exact whenever the list is filtered
    or searched, on SQLite, and on small tables. The estimate can be off by a little, so
    the last page may come out short or empty."""

    @cached_property
    def count(self) -> int:
        estimate = estimated_count(self.object_list)
        return super().count if estimate is None else estimate


@admin.register(Article)
class ArticleAdmin(CleanTextAdminMixin, MarkdownxModelAdmin):
    # MarkdownxModelAdmin puts the editor with live preview on the body field.
    form = ArticleAdminForm
    list_display = ["title", "category", "author", "state", "live", "review_due", "updated_at"]
    list_filter = [WorkflowStateFilter, "category"]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    # Everything the columns read, in the page's one query: "next review due" needs the
    # live revision's approval and category (articles.expiry).
    list_select_related = [
        "category",
        "author",
        "live_revision__approval",
        "live_revision__category",
    ]
    # No second count of the whole table on every load ("N of 100,000 total").
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = ["workflow_panel", "citation_check", "review_comments"]
    fieldsets = [
        # loaded_version is a hidden input: the version this page was loaded at.
        (None, {"fields": ["title", "slug", "category", "summary", "body", "loaded_version"]}),
        ("Hero image", {"fields": ["hero_image", "hero_image_alt"], "classes": ["collapse"]}),
        (
            "Review and publishing",
            {"fields": ["workflow_panel", "citation_check", "review_comments"]},
        ),
    ]
    change_form_template = "admin/articles/article/change_form.html"

    class Media:
        css = {"all": ["css/admin-review.css"]}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets[:2]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.first_published_at is not None:
            # Readers, search engines and e-mails link to it: a published URL stays put.
            fields.append("slug")
        return fields

    def get_prepopulated_fields(self, request, obj=None):
        if obj is not None and obj.first_published_at is not None:
            return {}
        return super().get_prepopulated_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["loaded_version"] = ArticleAdminForm.base_fields["loaded_version"]
        # A class built for this request: pictures it stores are recorded as this user's.
        if issubclass(form, StoredImageFormMixin):
            form.uploaded_by = staff_user(request)
        return form

    @admin.display(description="state")
    def state(self, article: Article) -> str:
        newest_first = getattr(article, "revisions_newest_first", None)
        if newest_first is None:
            return _revision_state(article.latest_revision(), article.live_revision_id)
        return _revision_state(newest_first[0] if newest_first else None, article.live_revision_id)

    def get_changelist(self, request, **kwargs):
        return ArticleChangeList

    def get_queryset(self, request):
        # One query for every row's revisions instead of one per row for the state column.
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "revisions",
                    queryset=Revision.objects.only(
                        "id", "article_id", "number", "status", "publish_at"
                    ).order_by("-number"),
                    to_attr="revisions_newest_first",
                )
            )
        )

    @admin.display(description="live", boolean=True)
    def live(self, article: Article) -> bool:
        return article.live_revision_id is not None

    @admin.display(description="next review due")
    def review_due(self, article: Article) -> str:
        due = review_due_at(article) if article.live_revision_id else None
        if due is None:
            return "—"
        if due <= timezone.now():
            return format_html(
                '<strong class="errornote">Overdue since {}</strong>', f"{due:%Y-%m-%d}"
            )
        return f"{due:%Y-%m-%d}"

    @admin.display(description="Workflow")
    def workflow_panel(self, article: Article) -> str:
        revisions = article.revisions.select_related("approval").order_by("-number")
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a>{}</li>',
            (
                (
                    reverse("admin:articles_revision_change", args=[r.pk]),
                    _revision_state(r, article.live_revision_id),
                    " — live" if r.pk == article.live_revision_id else "",
                )
                for r in revisions
            ),
        )
        latest = revisions.first()
        dirty = latest is None or latest.content_hash != article.working_hash
        note = (
            "The working copy has changes no physician has reviewed yet."
            if dirty
            else "The working copy matches the latest revision."
        )
        return format_html("<p>{}</p><ul>{}</ul>", note, rows)

    @admin.display(description="Citations")
    def citation_check(self, article: Article) -> str:
        if article.unknown_citation_keys:
            return format_html(
                '<span class="errornote">Unknown citation keys (submission is blocked): {}</span>',
                ", ".join(article.unknown_citation_keys),
            )
        cited = list(article.cited_references.values_list("key", flat=True))
        return f"{len(cited)} references cited: {', '.join(cited) or 'none'}."

    @admin.display(description="Reviewer comments")
    def review_comments(self, article: Article) -> str:
        reviews = Review.objects.filter(revision__article=article).select_related("revision")
        if not reviews:
            return "No reviews yet."
        return format_html_join(
            "",
            "<p><strong>Revision {} — {} by {} on {}</strong><br>{}</p>",
            (
                (
                    r.revision.number,
                    r.get_decision_display(),
                    r.byline_name,
                    f"{timezone.localtime(r.created_at):%Y-%m-%d %H:%M}",
                    r.comment or "(no comment)",
                )
                for r in reviews
            ),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = staff_user(request)
        workflow.save_working_copy(
            article=obj,
            actor=staff_user(request),
            expected_version=form.cleaned_data.get("loaded_version"),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/submit/",
                self.admin_site.admin_view(self.submit_view),
                name="articles_article_submit",
            ),
            path(
                "<int:pk>/unpublish/",
                self.admin_site.admin_view(self.unpublish_view),
                name="articles_article_unpublish",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "submit_form": SubmitForm(),
            "comment_form": CommentForm(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_submit"] = rules.may(rules.submit_refusal(staff_user(request))) and rules.may(
            rules.edit_refusal(staff_user(request))
        )
        context["submitted_change_note"] = request.POST.get("change_note", "")
        # A physician's requested changes, at the top of the page the writer edits, until a
        # newer revision answers them.
        latest = obj.revisions.order_by("-number").first() if obj is not None else None
        context["requested_changes"] = (
            latest.reviews.filter(decision=Decision.REQUEST_CHANGES).order_by("-pk").first()
            if latest is not None and latest.status == RevisionStatus.CHANGES_REQUESTED
            else None
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if "_submit" in request.POST:
            return self._submit_after_save(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_submit" in request.POST:
            return self._submit_after_save(request, obj)
        return super().response_change(request, obj)

    def _submit_after_save(self, request: HttpRequest, article: Article) -> HttpResponse:
        """ "Save and submit": the form was saved (through the stale-edit check) just now, so
        what is frozen is exactly what the writer sees on the page."""
        return self._submit(
            request,
            article,
            success="Saved and submitted for medical review.",
            too_long="Saved, but not submitted: the change note is too long.",
        )

    def submit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        article = get_object_or_404(Article, pk=pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:articles_article_change", args=[pk]))
        return self._submit(
            request,
            article,
            success="Submitted for medical review.",
            too_long="The change note is too long (500 characters at most).",
        )

    def _submit(
        self, request: HttpRequest, article: Article, *, success: str, too_long: str
    ) -> HttpResponse:
        back = reverse("admin:articles_article_change", args=[article.pk])
        form = SubmitForm(request.POST)
        if not form.is_valid():
            messages.error(request, too_long)
            return HttpResponseRedirect(back)
        return _run_step(
            request,
            lambda: workflow.submit_for_review(
                article=article,
                actor=staff_user(request),
                change_note=form.cleaned_data["change_note"],
            ),
            success=success,
            back=back,
        )

    def unpublish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Unpublishing takes an article away from readers: a page that says so, asks why,
        and asks to confirm; the reason is recorded and mailed to the writer and editors."""
        article = get_object_or_404(Article.objects.select_related("live_revision"), pk=pk)
        refusal = rules.unpublish_refusal(staff_user(request), article)
        if refusal is not None and refusal.permission:
            raise PermissionDenied(refusal.reason)
        back = reverse("admin:articles_article_change", args=[pk])
        form = UnpublishForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return _run_step(
                request,
                lambda: workflow.unpublish(
                    article=article, actor=staff_user(request), comment=form.cleaned_data["reason"]
                ),
                success="Unpublished: the article is no longer on the public site; the writer "
                "and the editors have been told why.",
                back=back,
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Unpublish “{article.title}”?",
            "article": article,
            "form": form,
            "refusal": refusal,
            "back": back,
        }
        return TemplateResponse(request, "admin/articles/article/unpublish.html", context)


def _run_step(request: HttpRequest, step, *, success: str, back: str) -> HttpResponse:
    """Run one workflow function; show its refusal as a message, or 403 for permissions."""
    try:
        step()
    except workflow.WorkflowPermissionDenied:
        raise
    except workflow.WorkflowError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, success)
    return HttpResponseRedirect(back)


class WaitingForMeFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("mine", "Waiting for my review")]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return independence.awaiting_decision_by(staff_user(request), queryset)
        return queryset


@admin.register(Revision)
class RevisionAdmin(RecordAdmin):
    """Revisions are read, decided on and published here; never edited."""

    list_display = ["title", "number", "status", "created_by", "created_at", "approved_by"]
    list_filter = [WaitingForMeFilter, "status"]
    search_fields = ["title", "article__slug"]
    list_select_related = ["created_by", "approval"]

    @admin.display(description="approved by")
    def approved_by(self, revision: Revision) -> str:
        return revision.approval.byline_name if revision.approval else "—"

    def get_urls(self):
        step = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", step(self.approve_view), name="articles_revision_approve"),
            path(
                "<int:pk>/request-changes/",
                step(self.request_changes_view),
                name="articles_revision_request_changes",
            ),
            path("<int:pk>/publish/", step(self.publish_view), name="articles_revision_publish"),
            path("<int:pk>/schedule/", step(self.schedule_view), name="articles_revision_schedule"),
            path(
                "<int:pk>/unschedule/",
                step(self.unschedule_view),
                name="articles_revision_unschedule",
            ),
            path("<int:pk>/withdraw/", step(self.withdraw_view), name="articles_revision_withdraw"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        revision = get_object_or_404(
            Revision.objects.select_related("article__live_revision", "created_by", "approval"),
            pk=object_id,
        )
        article = revision.article
        # Compare with what readers see now; if nothing is live (never published, or taken
        # down), with the last revision a physician approved before this one.
        if article.live_revision_id and article.live_revision_id != revision.pk:
            base = article.live_revision
        else:
            base = (
                article.revisions.filter(number__lt=revision.number, approval__isnull=False)
                .order_by("-number")
                .first()
            )
        user = staff_user(request)
        decide = rules.decide_refusal(user, revision)
        publish = rules.publish_refusal(user, revision)
        is_physician = user.has_perm("articles.review_article")
        is_editor = user.has_perm(rules.PUBLISH_PERMISSION)
        # The revision a physician last sent back, if this one answers it: what changed
        # since then is what the physician asked for.
        returned = (
            article.revisions.filter(
                number__lt=revision.number, reviews__decision=Decision.REQUEST_CHANGES
            )
            .order_by("-number")
            .first()
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review: {revision.title} (revision {revision.number})",
            "revision": revision,
            "article": article,
            "diff": diff_revisions(base, revision),
            "diff_base_is_live": base is not None and base.pk == article.live_revision_id,
            "reviews": revision.reviews.select_related("reviewer"),
            "audit_events": AuditEvent.objects.filter(article=article).select_related(
                "actor", "revision"
            )[:50],
            "approval_current": workflow.approval_is_current(revision),
            # Each button shows only when its rule allows it; otherwise the rule's reason.
            "can_review": decide is None,
            "review_refusal": decide.reason if decide and is_physician else None,
            "is_editor": is_editor,
            "can_publish": publish is None,
            "publish_refusal": publish.reason if publish and is_editor else None,
            "can_unschedule": is_editor and revision.publish_at is not None,
            "can_withdraw": rules.may(rules.withdraw_refusal(user, revision)),
            "returned": returned,
            "returned_diff": diff_revisions(returned, revision) if returned else None,
            # Distinct id prefixes: both forms have a "comment" field on one page.
            "approve_form": (extra_context or {}).get("approve_form")
            or ApproveForm(auto_id="approve_%s", initial={"seen_hash": revision.content_hash}),
            "request_changes_form": RequestChangesForm(auto_id="request_changes_%s"),
            "schedule_form": ScheduleForm(auto_id="schedule_%s"),
            "comment_form": CommentForm(auto_id="withdraw_%s"),
        }
        return TemplateResponse(request, "admin/articles/revision/review.html", context)

    def _back(self, pk: int) -> str:
        return reverse("admin:articles_revision_change", args=[pk])

    @staticmethod
    def _invalid(request, form) -> None:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label or 'Form'}: {' '.join(errors)}")

    def _revision_step(self, request, pk, *, run, success: str, form_class=None):
        """Validate the step's form, then run one workflow function on the revision."""
        revision = get_object_or_404(Revision, pk=pk)
        data = {}
        if form_class is not None:
            form = form_class(request.POST)
            if not form.is_valid():
                self._invalid(request, form)
                return HttpResponseRedirect(self._back(pk))
            data = form.cleaned_data
        return _run_step(
            request,
            lambda: run(revision, data),
            success=success.format(number=revision.number),
            back=self._back(pk),
        )

    def approve_view(self, request, pk):
        # The approval password is a password like the login's: the same lock-out counts
        # its failures (django-axes), per account and per address.
        credentials = {"username": request.user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            revision = get_object_or_404(Revision, pk=pk)
            workflow.record_refused_approval(
                revision=revision,
                actor=staff_user(request),
                reason="Too many wrong passwords: approving is paused for this account.",
            )
            return get_lockout_response(request, credentials=credentials)

        revision = get_object_or_404(Revision, pk=pk)
        form = ApproveForm(request.POST)
        if not form.is_valid():
            self._invalid(request, form)
            return HttpResponseRedirect(self._back(pk))
        data = form.cleaned_data
        try:
            workflow.approve(
                revision=revision,
                actor=staff_user(request),
                password=data["password"],
                attestation_accepted=data["attestation"],
                seen_hash=data["seen_hash"],
                conflict_of_interest=data["conflict_of_interest"],
                comment=data["comment"],
            )
        except workflow.WorkflowPermissionDenied:
            raise
        except workflow.WorkflowError as refusal:
            if isinstance(refusal, workflow.WrongPasswordError):
                user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            messages.error(request, str(refusal))
            # The page again with everything the physician entered but the password.
            kept = ApproveForm(
                auto_id="approve_%s",
                initial={k: v for k, v in data.items() if k != "password"},
            )
            response = self.change_view(request, str(pk), extra_context={"approve_form": kept})
            response.status_code = 400
            return response
        messages.success(request, f"You approved revision {revision.number}.")
        return HttpResponseRedirect(self._back(pk))

    def request_changes_view(self, request, pk):
        return self._revision_step(
            request,
            pk,
            form_class=RequestChangesForm,
            run=lambda revision, data: workflow.request_changes(
                revision=revision, actor=staff_user(request), comment=data["comment"]
            ),
            success="Changes requested; the writer has been told.",
        )

    def publish_view(self, request, pk):
        return self._revision_step(
            request,
            pk,
            run=lambda revision, data: workflow.publish(
                revision=revision, actor=staff_user(request)
            ),
            success="Revision {number} is live.",
        )

    def schedule_view(self, request, pk):
        return self._revision_step(
            request,
            pk,
            form_class=ScheduleForm,
            run=lambda revision, data: workflow.schedule(
                revision=revision, actor=staff_user(request), publish_at=data["publish_at"]
            ),
            success="Scheduled.",
        )

    def unschedule_view(self, request, pk):
        return self._revision_step(
            request,
            pk,
            run=lambda revision, data: workflow.unschedule(
                revision=revision, actor=staff_user(request)
            ),
            success="Schedule cancelled.",
        )

    def withdraw_view(self, request, pk):
        return self._revision_step(
            request,
            pk,
            form_class=CommentForm,
            run=lambda revision, data: workflow.withdraw(
                revision=revision, actor=staff_user(request), comment=data.get("comment", "")
            ),
            success="Submission withdrawn.",
        )


for _view in (
    "approve_view",
    "request_changes_view",
    "publish_view",
    "schedule_view",
    "unschedule_view",
    "withdraw_view",
):
    # Workflow steps change state: POST only (and CSRF-checked by the middleware).
    setattr(RevisionAdmin, _view, method_decorator(require_POST)(getattr(RevisionAdmin, _view)))


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    """Read-only for everyone, superusers included: the trail is append-only."""

    list_display = [
        "created_at",
        "action",
        "article",
        "revision_number",
        "recorded_actor",
        "short_hash",
    ]
    list_filter = ["action"]
    search_fields = ["article__title", "comment", "content_hash"]
    list_select_related = ["article", "revision", "actor"]

    @admin.display(description="revision")
    def revision_number(self, event: AuditEvent):
        return event.revision.number if event.revision else "—"

    @admin.display(description="actor")
    def recorded_actor(self, event: AuditEvent) -> str:
        return event.actor_label

    @admin.display(description="content hash")
    def short_hash(self, event: AuditEvent) -> str:
        return event.content_hash[:12]


@admin.register(Review)
class ReviewAdmin(RecordAdmin):
    """Signed decisions: readable by staff with the permission, changeable by nobody."""

    list_display = ["created_at", "decision", "reviewer_name", "revision"]
    list_filter = ["decision"]
    list_select_related = ["revision"]
