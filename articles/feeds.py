"""RSS and Atom feeds of published articles, showing each one's live revision."""

from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.html import escape

from clinic_site.text import strip_controls

from .jsonld import absolute_url
from .models import Article
from .views import published_list

FEED_LENGTH = 20


class _TextSummaryAtom(Atom1Feed):
    """Atom with the summary as text, not HTML: markup a writer typed in a summary shows as
    the characters it is, in every feed reader."""

    def add_item_elements(self, handler, item):
        description = item.pop("description", None)
        super().add_item_elements(handler, {**item, "description": None})
        if description is not None:
            handler.addQuickElement("summary", description, {"type": "text"})


class RssFeed(Feed):
    """Links are absolute on SITE_URL, like the pages' canonical URLs and the sitemap.

    Titles and summaries are plain text: control characters (which XML cannot carry) are
    removed, and RSS descriptions, which readers treat as HTML, are escaped once.
    """

    feed_type: type[SyndicationFeed] = Rss201rev2Feed

    def title(self) -> str:
        return f"{strip_controls(settings.CLINIC_NAME)}: physician-reviewed health articles"

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
        return strip_controls(item.public_revision.title)

    def item_description(self, item: Article) -> str:
        return escape(strip_controls(item.public_revision.summary))

    def item_link(self, item: Article) -> str:
        return absolute_url(item.get_absolute_url())

    def item_pubdate(self, item: Article):
        return item.first_published_at or item.public_revision.published_at

    def item_updateddate(self, item: Article):
        return item.public_revision.published_at

    def item_author_name(self, item: Article) -> str:
        return strip_controls(item.public_revision.author_name) or settings.CLINIC_NAME

    def item_categories(self, item: Article) -> tuple[str, ...]:
        category = item.public_revision.category
        return (strip_controls(category.name),) if category is not None else ()


class AtomFeed(RssFeed):
    feed_type = _TextSummaryAtom

    def item_description(self, item: Article) -> str:
        return strip_controls(item.public_revision.summary)  # type="text": not escaped again

    def subtitle(self) -> str:
        return self.description()

    def feed_url(self) -> str:
        return absolute_url(reverse("articles:feed_atom"))
