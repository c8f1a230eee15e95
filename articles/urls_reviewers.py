"""Public reviewer profiles: who they are and what they reviewed, at /reviewers/.

The namespace is still `reviewers` (templates, `Reviewer.get_absolute_url` and links already
published use it), though the pages belong to `articles`: they list articles.
"""

from django.urls import path

from pagecache.decorators import public_page

from . import views_reviewers

app_name = "reviewers"

urlpatterns = [
    path("", public_page(views_reviewers.reviewer_index), name="index"),
    path(
        "<slug:slug>/", public_page(views_reviewers.reviewer_detail, paginated=True), name="detail"
    ),
]
