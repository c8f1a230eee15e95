"""sitemap.xml: the home page, published articles, their categories and reviewer profiles.

URLs are absolute on SITE_URL, the same canonical origin the pages' <link rel="canonical">
uses, whatever host the request came in on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Article, Category
from .views import published_list
from .views_reviewers import visible_reviewers


class CanonicalSitemap(Sitemap):
    def get_protocol(self, protocol=None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class HomeSitemap(CanonicalSitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self) -> list[str]:
        return ["articles:home"]

    def location(self, item: str) -> str:
        return reverse(item)


class ArticleSitemap(CanonicalSitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return published_list()

    def lastmod(self, item: Article):
        return item.public_revision.published_at


class CategorySitemap(CanonicalSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return Category.objects.filter(
            pk__in=Article.objects.published().order_by().values("live_revision__category_id")
        ).order_by("name")


class ReviewerSitemap(CanonicalSitemap):
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return visible_reviewers().order_by("display_name", "pk")


SITEMAPS = {
    "home": HomeSitemap,
    "articles": ArticleSitemap,
    "categories": CategorySitemap,
    "reviewers": ReviewerSitemap,
}
