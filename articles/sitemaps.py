"""sitemap.xml: the home page, published articles, their categories and reviewer profiles.

URLs are absolute on SITE_URL, the same canonical origin the pages' <link rel="canonical">
uses, whatever host the request came in on.

The sitemap protocol allows at most 50,000 URLs in one file and asks for a sitemap index
beyond that. Here a file holds at most URLS_PER_FILE (1,000): while every URL fits in one,
/sitemap.xml is that file; past it, /sitemap.xml is a sitemap index naming one file per
section (/sitemap-<section>.xml), the articles over as many pages as they need (`?p=2`, …).

Why 1,000 and not 50,000: each article listed is checked against its approval (as every
public page checks it) and written out, about 15–30 µs an article on this project's
2-core machine, so a 50,000-URL file holds a worker for a second or more and is 9 MB;
1,000 keep one file within a public page's budget (bench/README.md has the figures).

An articles page holds the articles whose id falls in its range, so pages stay put as
articles are published (a new article lands on the last page) and none is found by
counting or skipping the whole list. Files are written directly, not through Django's
sitemap template, which costs some 0.2 ms a URL.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem
from django.core.paginator import EmptyPage, InvalidPage, PageNotAnInteger
from django.db.models import OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import escape

from .models import Article, Category, FencedExists
from .views_reviewers import visible_reviewers

# The sitemap protocol's limit (https://www.sitemaps.org/protocol.html) is 50,000.
PROTOCOL_MAX_URLS = 50_000
URLS_PER_FILE = 1_000


class CanonicalSitemap(Sitemap):
    def get_protocol(self, protocol=None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    def most_urls(self) -> int:
        """At most how many URLs this section lists, found cheaply (to choose between one
        file and an index): an upper bound, never a count of the published list."""
        return self.paginator.count

    def get_latest_lastmod(self) -> datetime.datetime | None:
        return None  # Django's default would call lastmod() on every item

    def entries(self, page: int | str) -> list[Entry]:
        """The page's URLs; a page that does not exist is a 404."""
        try:
            urls = self.get_urls(page=page)
        except InvalidPage as error:
            raise Http404("No such sitemap page.") from error
        return [
            Entry(url["location"], url["lastmod"], url["changefreq"], url["priority"])
            for url in urls
        ]


@dataclass(frozen=True)
class Entry:
    location: str
    lastmod: datetime.datetime | None
    changefreq: str | None
    priority: float | str | None


class HomeSitemap(CanonicalSitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self) -> list[str]:
        return ["articles:home"]

    def location(self, item: str) -> str:
        return reverse(item)


class IdRangePaginator:
    """Sitemap pages by article id: page n lists the published articles with
    (n - 1) × per_page < id ≤ n × per_page, in id order: at most per_page of them.

    The number of pages comes from the highest published id (one row along the primary
    key), not from counting the list, and no page skips over the ones before it. A range
    whose articles were all unpublished is an empty page, which the protocol allows.
    """

    def __init__(self, queryset: QuerySet[Article], per_page: int) -> None:
        self.queryset = queryset
        self.per_page = per_page

    @cached_property
    def highest_id(self) -> int:
        return self.queryset.order_by("-pk").values_list("pk", flat=True).first() or 0

    @property
    def count(self) -> int:
        """An upper bound of the URLs on all pages (Django's Paginator counts instead)."""
        return self.highest_id

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.highest_id / self.per_page))

    def rows(self, number: int | str) -> QuerySet:
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not an integer") from error
        if not 1 <= number <= self.num_pages:
            raise EmptyPage("That page contains no results")
        low, high = (number - 1) * self.per_page, number * self.per_page
        return (
            self.queryset.filter(pk__gt=low, pk__lte=high)
            .order_by("pk")
            .values_list("slug", "live_revision__published_at")
        )


class ArticleSitemap(CanonicalSitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self) -> QuerySet[Article]:
        return Article.objects.published()

    @cached_property
    def paginator(self) -> IdRangePaginator:  # type: ignore[override]
        return IdRangePaginator(self.items(), URLS_PER_FILE)

    def entries(self, page: int | str) -> list[Entry]:
        try:
            rows = self.paginator.rows(page)
        except InvalidPage as error:
            raise Http404("No such sitemap page.") from error
        # One reverse() for the page, not one per article: slugs are [-a-zA-Z0-9_].
        marker = "slug-placeholder"
        pattern = reverse("articles:detail", kwargs={"slug": marker})
        before, _, after = pattern.partition(marker)
        base = f"{self.get_protocol()}://{self.get_domain()}{before}"
        return [
            Entry(f"{base}{slug}{after}", published_at, self.changefreq, self.priority)
            for slug, published_at in rows
        ]

    def get_latest_lastmod(self) -> datetime.datetime | None:
        # The newest live revision: the first row along the published-revision index.
        return self.items().values_list("live_revision__published_at", flat=True).first()


class CategorySitemap(CanonicalSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self) -> QuerySet[Category]:
        # Each category asks whether it lists one published article (the first found
        # along its index), rather than collecting the categories of every article.
        listed = Article.objects.published().filter(live_revision__category=OuterRef("pk"))
        return Category.objects.filter(FencedExists(listed)).order_by("name")

    def most_urls(self) -> int:
        return Category.objects.count()


class ReviewerSitemap(CanonicalSitemap):
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return visible_reviewers().order_by("display_name", "pk")

    def most_urls(self) -> int:
        from reviewers.models import Reviewer

        return Reviewer.objects.count()


SITEMAPS: dict[str, type[CanonicalSitemap]] = {
    "home": HomeSitemap,
    "articles": ArticleSitemap,
    "categories": CategorySitemap,
    "reviewers": ReviewerSitemap,
}


def sitemap_or_index(request: HttpRequest) -> HttpResponse:
    """/sitemap.xml: every URL in one file while they fit in one, else a sitemap index."""
    sections = [cls() for cls in SITEMAPS.values()]
    if sum(section.most_urls() for section in sections) > URLS_PER_FILE:
        return sitemap_index(request)
    page = request.GET.get("p", "1")
    return _urlset([entry for section in sections for entry in section.entries(page)])


def sitemap_index(request: HttpRequest) -> HttpResponse:
    """The index of every section's files, on SITE_URL (Django's own index view would name
    them on whatever host the request came in on)."""
    items = []
    for name, cls in SITEMAPS.items():
        section = cls()
        location = settings.SITE_URL + reverse("sitemap_section", kwargs={"section": name})
        lastmod = section.get_latest_lastmod()
        items.append(SitemapIndexItem(location, lastmod))  # type: ignore[arg-type]
        for page in range(2, section.paginator.num_pages + 1):
            items.append(SitemapIndexItem(f"{location}?p={page}", lastmod))  # type: ignore[arg-type]
    response = TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": items}, content_type="application/xml"
    )
    response.headers["X-Robots-Tag"] = "noindex, noodp, noarchive"
    return response


def sitemap_section(request: HttpRequest, section: str) -> HttpResponse:
    """/sitemap-<section>.xml(?p=n): one section's file, or one page of it."""
    if section not in SITEMAPS:
        raise Http404("No such sitemap.")
    return _urlset(SITEMAPS[section]().entries(request.GET.get("p", "1")))


def _urlset(entries: list[Entry]) -> HttpResponse:
    """The <urlset> as Django's sitemap template writes it (lastmod as a date in the site's
    time zone), without a template."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">'
    ]
    for entry in entries:
        parts.append(f"<url><loc>{escape(entry.location)}</loc>")
        if entry.lastmod:
            parts.append(f"<lastmod>{_date(entry.lastmod)}</lastmod>")
        if entry.changefreq:
            parts.append(f"<changefreq>{escape(entry.changefreq)}</changefreq>")
        if entry.priority:
            parts.append(f"<priority>{escape(str(entry.priority))}</priority>")
        parts.append("</url>")
    parts.append("</urlset>\n")
    response = HttpResponse("".join(parts), content_type="application/xml")
    response.headers["X-Robots-Tag"] = "noindex, noodp, noarchive"
    return response


def _date(value: datetime.datetime | datetime.date) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().isoformat()
    return value.isoformat()


__all__ = ["PROTOCOL_MAX_URLS", "SITEMAPS", "sitemap_index", "sitemap_or_index", "sitemap_section"]
