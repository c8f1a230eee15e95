"""The three roles of the design's table, as Django groups with model permissions.

A person may hold several roles; rules such as "nobody approves their own revision" are
enforced by the workflow, not by leaving a permission out.
"""

from __future__ import annotations

from collections.abc import Mapping

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Writer": [
        "articles.add_article",
        "articles.change_article",
        "articles.view_article",
        "articles.submit_article",
        "articles.view_category",
        "articles.view_revision",
        "articles.view_auditevent",
        "articles.view_review",
        "references.add_reference",
        "references.change_reference",
        "references.view_reference",
        "reviewers.view_reviewer",
    ],
    "Physician reviewer": [
        "articles.view_article",
        "articles.review_article",
        "articles.view_category",
        "articles.view_revision",
        "articles.view_auditevent",
        "articles.view_review",
        "references.view_reference",
        "reviewers.view_reviewer",
    ],
    "Editor": [
        "articles.view_article",
        "articles.publish_article",
        "articles.add_category",
        "articles.change_category",
        "articles.delete_category",
        "articles.view_category",
        "articles.view_revision",
        "articles.view_auditevent",
        "articles.view_review",
        "references.view_reference",
        "reviewers.add_reviewer",
        "reviewers.change_reviewer",
        "reviewers.view_reviewer",
        "auth.view_user",
    ],
}


def apply_role_permissions(
    group_model, permission_model, table: Mapping[str, list[str]] | None = None
) -> None:
    """Create the role groups with exactly their permissions (models may be historical).

    `table` defaults to ROLE_PERMISSIONS; a migration passes the table as it was then, since
    this one names models (such as articles.Review) its historical state may not have yet.
    """
    for role, dotted_names in (ROLE_PERMISSIONS if table is None else table).items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = []
        for dotted in dotted_names:
            app_label, codename = dotted.split(".")
            permissions.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)
