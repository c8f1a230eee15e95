"""RSS and Atom feeds of published articles, showing each one's live revision."""

from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .jsonld import absolute_url
from .models import Article
from .views import published_list

FEED_LENGTH = 20


class RssFeed(Feed):
    """Links are absolute on SITE_URL, like the pages' canonical URLs and the sitemap."""

    def title(self) -> str:
        return f"{settings.CLINIC_NAME}: physician-reviewed health articles"

    def description(self) -> str:
        return (
            f"The latest health articles from {settings.CLINIC_NAME}, each medically "
            "reviewed by one of our physicians."
        )

    def link(self) -> str:
        return absolute_url(reverse("articles:home"))

    def feed_url(self) -> str:
        return absolute_url(reverse("articles:feed_rss"))

    def items(self):
        return published_list()[:FEED_LENGTH]

    def item_title(self, item: Article) -> str:
        return item.live_revision.title

    def item_description(self, item: Article) -> str:
        return item.live_revision.summary

    def item_link(self, item: Article) -> str:
        return absolute_url(item.get_absolute_url())

    def item_pubdate(self, item: Article):
        return item.first_published_at or item.live_revision.published_at

    def item_updateddate(self, item: Article):
        return item.live_revision.published_at

    def item_author_name(self, item: Article) -> str:
        return item.live_revision.author_name or settings.CLINIC_NAME

    def item_categories(self, item: Article) -> tuple[str, ...]:
        return (item.live_revision.category.name,)


class AtomFeed(RssFeed):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description()

    def feed_url(self) -> str:
        return absolute_url(reverse("articles:feed_atom"))
