"""Public reviewer profiles: who the physician is and which published articles they reviewed.

They list articles, so they live here rather than in `reviewers` (which knows no article);
the URLs stay /reviewers/ under the `reviewers` namespace (articles/urls_reviewers.py).

A profile is public while the reviewer is active, and stays public while any published
article's live revision carries their approval (so every byline link keeps working).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from reviewers.models import Reviewer

from . import jsonld
from .models import Article
from .views import canonical_for, paginate, published_list

ARTICLES_PER_PAGE = 20


def visible_reviewers() -> QuerySet[Reviewer]:
    # Whether a reviewer signed any published article: the first one found, not the
    # reviewers of every published article collected.
    reviewed = Article.objects.published().filter(live_revision__approval__reviewer=OuterRef("pk"))
    return Reviewer.objects.filter(Q(active=True, user__is_active=True) | Exists(reviewed))


def reviewer_index(request: HttpRequest) -> HttpResponse:
    reviewers = list(visible_reviewers().order_by("display_name", "pk"))
    counts = Article.objects.published_count_by("live_revision__approval__reviewer")
    for reviewer in reviewers:
        reviewer.article_count = counts.get(reviewer.pk, 0)
    return render(
        request,
        "reviewers/reviewer_index.html",
        {"reviewers": reviewers, "canonical_url": canonical_for(request)},
    )


def reviewer_detail(request: HttpRequest, slug: str) -> HttpResponse:
    reviewer = get_object_or_404(visible_reviewers(), slug=slug)
    page = paginate(
        request,
        published_list().filter(live_revision__approval__reviewer=reviewer),
        per_page=ARTICLES_PER_PAGE,
    )
    image_url = jsonld.absolute_url(reviewer.photo.url) if reviewer.photo else ""
    return render(
        request,
        "reviewers/reviewer_detail.html",
        {
            "reviewer": reviewer,
            "page_obj": page,
            "articles": page.object_list,
            "image_url": image_url,
            "canonical_url": canonical_for(request, page),
            "jsonld": jsonld.to_script_json(jsonld.reviewer_profile(reviewer, image_url=image_url)),
        },
    )
