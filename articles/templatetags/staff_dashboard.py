"""The admin home's work lists: what waits for me, what is overdue, what is scheduled; and
the "overdue schedule" flag, which the review page shows too."""

from typing import Any

from django import template
from django.utils import timezone

from articles.audit_chain import last_verification
from articles.independence import awaiting_decision_by
from articles.models import Revision, RevisionStatus
from articles.overdue import overdue
from articles.scheduling import schedule_overdue
from articles.workflow import SCHEDULABLE_STATUSES
from articles.worklists import writer_worklist

register = template.Library()

DASHBOARD_OVERDUE = 20


@register.inclusion_tag("admin/articles/dashboard.html", takes_context=True)
def staff_dashboard(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    queue: list[Revision] = []
    if user.has_perm("articles.review_article"):
        queue = list(awaiting_decision_by(user).select_related("article", "created_by")[:20])
    scheduled: list[dict[str, Any]] = []
    if user.has_perm("articles.publish_article"):
        now = timezone.now()
        scheduled = [
            {"revision": revision, "overdue": schedule_overdue(revision, now=now)}
            for revision in Revision.objects.filter(
                status__in=SCHEDULABLE_STATUSES, publish_at__isnull=False
            )
            .select_related("article")
            .order_by("publish_at")[:20]
        ]
    approved: list[Revision] = []
    if user.has_perm("articles.publish_article"):
        approved = list(
            Revision.objects.filter(status=RevisionStatus.APPROVED, publish_at__isnull=True)
            .select_related("article", "approval")
            .order_by("-created_at")[:20]
        )
    writes = user.has_perm("articles.submit_article") and user.has_perm("articles.change_article")
    return {
        "worklist": writer_worklist(user) if writes else None,
        "queue": queue,
        # The first few, as for the other lists: at 100,000 articles thousands can be due,
        # and the changelist's "Review overdue" filter lists them all.
        "overdue": list(overdue()[: DASHBOARD_OVERDUE + 1])
        if user.has_perm("articles.view_article")
        else [],
        "overdue_shown": DASHBOARD_OVERDUE,
        "scheduled": scheduled,
        "approved": approved,
        "can_review": user.has_perm("articles.review_article"),
        "audit_check": last_verification() if user.has_perm("articles.view_auditevent") else None,
        "show_audit_check": user.has_perm("articles.view_auditevent"),
    }


@register.filter
def schedule_is_overdue(revision: Revision) -> bool:
    """`{% if revision|schedule_is_overdue %}`: the one rule, articles.scheduling's."""
    return schedule_overdue(revision)
