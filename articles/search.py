"""Search over the live revisions of published articles.

PostgreSQL: full-text search on `Revision.search_vector` (title A, summary B, body C, filled
by the workflow at publish, GIN-indexed), `websearch_to_tsquery` so any input a reader types
is valid, ranked with `ts_rank`, snippets from `ts_headline`. Other databases (SQLite, the
embedded default): a plain case-insensitive match of every word in the title, summary or
body, title matches first. Both return articles from `Article.objects.published()` only.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import connection
from django.db.models import Case, Expression, F, IntegerField, Q, QuerySet, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article

MAX_QUERY_LENGTH = 200
MAX_FALLBACK_WORDS = 8
SNIPPET_RADIUS = 110

# Private-use characters mark the highlights in ts_headline's output; they are turned into
# <mark> only after everything else has been escaped, and strays are dropped.
_START = "\ue000"
_STOP = "\ue001"
_MARKED = re.compile(f"{_START}(.*?){_STOP}", re.S)

# What of the Markdown source is noise in a one-line snippet.
_CITATION = re.compile(r"\s*\[-?@[^\[\]]*\]")
_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()\s]*(?:\s+\"[^\"]*\")?\)")
_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s?)|[*_`~]{1,3}|<[^>]*>", re.M)
_SPACE = re.compile(r"\s+")


def clean_query(raw: str | None) -> str:
    """What we search for: no control characters (NUL breaks PostgreSQL), single spaces,
    at most MAX_QUERY_LENGTH characters."""
    if not raw:
        return ""
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch
        for ch in raw[: MAX_QUERY_LENGTH * 4]
    )
    return _SPACE.sub(" ", text).strip()[:MAX_QUERY_LENGTH].strip()


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def search_articles(query: str) -> QuerySet[Article]:
    """Published articles matching `query`, best first; each has `rank` and `headline`
    (the raw snippet: pass it to `highlight`). `query` must come from `clean_query`."""
    if uses_full_text():
        return _full_text(Article.objects.for_lists(), query)
    # Without full-text search the snippet is cut from the body in Python.
    return _fallback(Article.objects.for_lists(keep=("live_revision__body",)), query)


def _full_text(base: QuerySet[Article], query: str) -> QuerySet[Article]:
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank

    search_query = SearchQuery(query, search_type="websearch", config="english")
    return (
        base.filter(live_revision__search_vector=search_query)
        .annotate(
            rank=SearchRank(F("live_revision__search_vector"), search_query),
            headline=SearchHeadline(
                "live_revision__body",
                search_query,
                config="english",
                start_sel=_START,
                stop_sel=_STOP,
                min_words=15,
                max_words=35,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "-live_revision__published_at", "-pk")
    )


def _words(query: str) -> list[str]:
    words = [word.strip("\"'") for word in query.split()]
    return [word for word in words if word][:MAX_FALLBACK_WORDS]


def _fallback(base: QuerySet[Article], query: str) -> QuerySet[Article]:
    words = _words(query) or [query]
    condition = Q()
    rank: Expression = Value(0)
    for word in words:
        in_title = Q(live_revision__title__icontains=word)
        in_summary = Q(live_revision__summary__icontains=word)
        in_body = Q(live_revision__body__icontains=word)
        condition &= in_title | in_summary | in_body
        rank = (
            rank
            + Case(When(in_title, then=Value(4)), default=Value(0), output_field=IntegerField())
            + Case(When(in_summary, then=Value(2)), default=Value(0), output_field=IntegerField())
            + Case(When(in_body, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
    return (
        base.filter(condition)
        .annotate(rank=rank)
        .order_by("-rank", "-live_revision__published_at", "-pk")
    )


def plain_text(markdown_source: str) -> str:
    """The Markdown source of a snippet without its markup, citations and link targets."""
    text = _CITATION.sub("", markdown_source)
    text = _LINK.sub(r"\1", text)
    text = _MARKUP.sub("", text)
    return _SPACE.sub(" ", text).strip()


def highlight(raw: str) -> SafeString:
    """Escape a snippet completely, then turn only the highlight markers into <mark>."""
    text: str = escape(plain_text(raw))
    text = _MARKED.sub(lambda m: f"<mark>{m.group(1)}</mark>" if m.group(1) else "", text)
    text = text.replace(_START, "").replace(_STOP, "")
    return mark_safe(text)  # noqa: S308 - escaped above; only <mark> is added


def fallback_snippet(body: str, query: str) -> str:
    """A window of the body around the first word found, with every match marked (the same
    marker format as ts_headline's, so `highlight` renders both)."""
    text = plain_text(body)
    words = sorted(set(_words(query)), key=len, reverse=True)
    if not words or not text:
        return text[: SNIPPET_RADIUS * 2]
    pattern = re.compile("|".join(re.escape(word) for word in words), re.I)
    found = pattern.search(text)
    if found is None:
        return _trim(text, 0, SNIPPET_RADIUS * 2)
    start = max(0, found.start() - SNIPPET_RADIUS)
    window = _trim(text, start, found.end() + SNIPPET_RADIUS)
    return pattern.sub(lambda m: f"{_START}{m.group(0)}{_STOP}", window)


def _trim(text: str, start: int, end: int) -> str:
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    piece = text[start:end].strip()
    return ("… " if start > 0 else "") + piece + (" …" if end < len(text) else "")


def add_snippets(articles: list[Article], query: str) -> list[Article]:
    """Set `snippet` (safe HTML) on each article of a results page."""
    for article in articles:
        raw = getattr(article, "headline", None)
        if raw is None:
            raw = fallback_snippet(article.public_revision.body, query)
        article.snippet = highlight(raw)
    return articles
