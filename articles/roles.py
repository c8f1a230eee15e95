"""The three roles of the design's table, as Django groups with model permissions.

A person may hold several roles; rules such as "nobody approves their own revision" are
enforced by the workflow, not by leaving a permission out.
"""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Writer": [
        "articles.add_article",
        "articles.change_article",
        "articles.view_article",
        "articles.submit_article",
        "articles.view_category",
        "articles.view_revision",
        "articles.view_auditevent",
        "references.add_reference",
        "references.change_reference",
        "references.view_reference",
        "reviewers.view_reviewer",
        "reviewers.view_review",
    ],
    "Physician reviewer": [
        "articles.view_article",
        "articles.review_article",
        "articles.view_category",
        "articles.view_revision",
        "articles.view_auditevent",
        "references.view_reference",
        "reviewers.view_reviewer",
        "reviewers.view_review",
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
        "references.view_reference",
        "reviewers.add_reviewer",
        "reviewers.change_reviewer",
        "reviewers.view_reviewer",
        "reviewers.view_review",
        "auth.view_user",
    ],
}


def apply_role_permissions(group_model, permission_model) -> None:
    """Create the role groups with exactly their permissions (models may be historical)."""
    for role, dotted_names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = []
        for dotted in dotted_names:
            app_label, codename = dotted.split(".")
            permissions.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)
