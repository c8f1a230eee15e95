"""Public pages. Articles reach them only through `Article.objects.published()`, and
everything shown about an article comes from its live revision and that revision's
approving review: never from the working copy.

Each page is a fixed, small number of queries whatever the amount of content (asserted in
tests/articles/test_query_budget.py), and nothing is rendered per request that a revision
already stores (body HTML, reference list, table of contents, word count).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin

from . import jsonld
from .models import Article, Category, Revision
from .search import MAX_QUERY_LENGTH, add_snippets, clean_query, search_articles

PER_PAGE = 10
RELATED_COUNT = 3
TOC_MIN_HEADINGS = 3


def published_list() -> QuerySet[Article]:
    """Published articles for lists (home, category, reviewer, related, feeds, sitemap)."""
    return Article.objects.for_lists()


# The deepest page of a public list. A page is found by skipping the articles before it
# (OFFSET), which costs time in proportion to the depth even along an index: beyond this
# depth a list answers 404 at once, so no request can make the database walk a whole list.
# Older articles stay reachable by category, reviewer, search and the sitemap.
MAX_LIST_PAGE = 500


@dataclass
class ListPage:
    """One page of a public list, found without counting the list.

    Counting every published article (for "page 3 of 10,000") joins and checks the whole
    list on every request; this page only knows whether a next one exists, by asking for
    one article more than it shows.
    """

    object_list: list
    number: int
    _has_next: bool

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous() or self.has_next()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def __len__(self) -> int:
        return len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)


def paginate(request: HttpRequest, queryset, *, per_page: int = PER_PAGE) -> ListPage:
    """The requested page of a list, in one query: the page's articles and one more.

    A page that does not exist (not a number, below 1, past MAX_LIST_PAGE or past the end)
    is a 404, as for Django's ListView; the first page always exists, empty or not.
    """
    raw = request.GET.get("page") or "1"
    number = int(raw) if raw.isdigit() and len(raw) <= 6 else 0
    if not 1 <= number <= MAX_LIST_PAGE:
        raise Http404("No such page.")
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    if not rows and number > 1:
        raise Http404("No such page.")
    return ListPage(rows[:per_page], number, len(rows) > per_page and number < MAX_LIST_PAGE)


def canonical_for(request: HttpRequest, page: ListPage | Page | None = None) -> str:
    path = request.path
    if page is not None and page.number > 1:
        path += f"?page={page.number}"
    return jsonld.absolute_url(path)


# --- Lists -------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    page = paginate(request, published_list())
    return render(
        request,
        "articles/home.html",
        {
            "page_obj": page,
            "articles": page.object_list,
            "canonical_url": canonical_for(request, page),
        },
    )


def category_index(request: HttpRequest) -> HttpResponse:
    counts = Article.objects.published_count_by("live_revision__category_id")
    categories = [c for c in Category.objects.all() if counts.get(c.pk)]
    for category in categories:
        category.article_count = counts[category.pk]
    return render(
        request,
        "articles/category_index.html",
        {"categories": categories, "canonical_url": canonical_for(request)},
    )


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug)
    page = paginate(request, published_list().filter(live_revision__category=category))
    return render(
        request,
        "articles/category_detail.html",
        {
            "category": category,
            "page_obj": page,
            "articles": page.object_list,
            "canonical_url": canonical_for(request, page),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    query = clean_query(request.GET.get("q"))
    context = {"query": query, "max_query_length": MAX_QUERY_LENGTH, "page_obj": None}
    if query:
        paginator = Paginator(search_articles(query), PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        context["page_obj"] = page
        context["articles"] = add_snippets(list(page.object_list), query)
    return render(request, "articles/search.html", context)


# --- The article page --------------------------------------------------------------------


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.published().defer(
            "title", "summary", "body", "live_revision__search_vector", "live_revision__body"
        ),
        slug=slug,
    )
    return _render_article(request, article, article.live_revision, preview=False)


@never_cache
@xframe_options_sameorigin  # the physician's review page frames it, isolated from admin CSS
def revision_preview(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Any revision, at the public page's shape, for logged-in staff who may view revisions.

    Anonymous readers are sent to the admin login; anyone else gets a plain 404, which
    tells them nothing about which articles or revisions exist.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.is_active and user.is_staff and user.has_perm("articles.view_revision")):
        raise Http404("No such page.")
    revision = get_object_or_404(
        Revision.objects.select_related(
            "article",
            "category",
            "approval",
            "approval__reviewer",
        ),
        article__slug=slug,
        number=number,
    )
    response = _render_article(request, revision.article, revision, preview=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _render_article(
    request: HttpRequest, article: Article, revision: Revision, *, preview: bool
) -> HttpResponse:
    review = revision.approval
    reviewer = review.reviewer if review is not None else None
    related = list(
        published_list()
        .filter(live_revision__category=revision.category_id)
        .exclude(pk=article.pk)[:RELATED_COUNT]
    )
    history = list(
        Revision.objects.filter(article_id=article.pk, published_at__isnull=False)
        .select_related("approval")
        .only(
            "number",
            "published_at",
            "change_note",
            "approval__reviewer_name",
            "approval__reviewer_credentials",
        )
        .order_by("-published_at", "-number")
    )
    # The stored table of contents holds Markdown's entity-escaped heading text; unescape it
    # so the template's autoescaping shows it exactly once.
    toc = [
        {**entry, "name": html.unescape(str(entry.get("name", "")))} for entry in revision.toc or []
    ]
    url = jsonld.absolute_url(article.get_absolute_url())
    image_url = jsonld.absolute_url(revision.hero_image.url) if revision.hero_image else ""
    published_at = article.first_published_at
    updated_at = revision.published_at
    show_updated = bool(
        published_at and updated_at and jsonld.iso_date(updated_at) != jsonld.iso_date(published_at)
    )
    context = {
        "article": article,
        "revision": revision,
        "review": review,
        "reviewer": reviewer,
        "author_name": revision.author_name,
        "published_at": published_at,
        "updated_at": updated_at,
        "show_updated": show_updated,
        "toc": toc,
        "show_toc": len(toc) >= TOC_MIN_HEADINGS,
        "related": related,
        "history": history,
        "preview": preview,
        "canonical_url": url,
        "image_url": image_url,
    }
    # A live revision always has its approval (publishing requires it); a preview may not.
    if not preview and review is not None:
        context["jsonld"] = jsonld.to_script_json(
            jsonld.article_page(
                article=article, revision=revision, review=review, url=url, image_url=image_url
            )
        )
    return render(request, "articles/article_detail.html", context)
