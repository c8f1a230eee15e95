"""The admin home's work lists: what waits for me, what is overdue, what is scheduled."""

from django import template

from articles.admin import waiting_for_review
from articles.models import Revision, RevisionStatus
from articles.overdue import overdue_articles
from articles.workflow import SCHEDULABLE_STATUSES

register = template.Library()


@register.inclusion_tag("admin/articles/dashboard.html", takes_context=True)
def staff_dashboard(context):
    user = context["request"].user
    queue = []
    if user.has_perm("articles.review_article"):
        queue = list(waiting_for_review(user).select_related("article", "created_by")[:20])
    scheduled = []
    if user.has_perm("articles.publish_article"):
        scheduled = list(
            Revision.objects.filter(status__in=SCHEDULABLE_STATUSES, publish_at__isnull=False)
            .select_related("article")
            .order_by("publish_at")[:20]
        )
    approved = []
    if user.has_perm("articles.publish_article"):
        approved = list(
            Revision.objects.filter(status=RevisionStatus.APPROVED, publish_at__isnull=True)
            .select_related("article", "approval")
            .order_by("-created_at")[:20]
        )
    return {
        "queue": queue,
        "overdue": overdue_articles() if user.has_perm("articles.view_article") else [],
        "scheduled": scheduled,
        "approved": approved,
        "can_review": user.has_perm("articles.review_article"),
    }
