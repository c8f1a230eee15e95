"""The role table as articles.0003 and 0009 applied it, frozen here (this module's leading
underscore keeps Django's migration loader from taking it for a migration).

Those migrations used to read `articles.roles.ROLE_PERMISSIONS`, the table of today; once
Review moved into `articles` (articles.0013) today's table names `articles.view_review`,
which does not exist in the state those migrations run in. articles.0013 turns the
`reviewers.*_review` permissions granted here into `articles.*_review`.
"""

ROLE_PERMISSIONS_0009 = {
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
