"""What a physician approves, as data: the content, its cited references, and its hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from references.citations import cited_keys, normalize_newlines
from references.models import Reference

from .models import Article


def content_hash(
    *,
    title: str,
    summary: str,
    body: str,
    references: Iterable[Mapping],
    hero_image: str = "",
    hero_image_alt: str = "",
) -> str:
    """SHA-256 over the exact approved content: title, summary, body, reference entries,
    and the hero image with its description."""
    canonical = json.dumps(
        {
            "title": title.strip(),
            "summary": normalize_newlines(summary).strip(),
            "body": normalize_markdown(body),
            "references": sorted(references, key=lambda item: item["id"]),
            "hero_image": hero_image,
            "hero_image_alt": hero_image_alt.strip(),
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalize_markdown(text: str) -> str:
    """One form of a Markdown body: LF line ends, no trailing blank space.

    A browser posts CRLF and the admin form strips the last newline; neither is a change a
    physician needs to review.
    """
    return normalize_newlines(text).strip()


def cited_library(body: str) -> tuple[list[Reference], list[str]]:
    """The library references a body cites, in order of first citation, and the unknown keys."""
    keys = cited_keys(body)
    found = {ref.key: ref for ref in Reference.objects.filter(key__in=keys)}
    return [found[k] for k in keys if k in found], [k for k in keys if k not in found]


def refresh_working_copy(article: Article) -> None:
    """Recompute what the working copy cites and its hash, after it or a reference changed."""
    references, unknown = cited_library(article.body)
    article.working_hash = content_hash(
        title=article.title,
        summary=article.summary,
        body=article.body,
        references=[ref.to_csl() for ref in references],
        hero_image=article.hero_image.name or "",
        hero_image_alt=article.hero_image_alt,
    )
    article.unknown_citation_keys = unknown
    Article.objects.filter(pk=article.pk).update(
        working_hash=article.working_hash, unknown_citation_keys=unknown
    )
    article.cited_references.set(references)
