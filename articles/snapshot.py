"""What a physician approves, as data: everything a public page shows about an article.

`freeze` computes it from a working copy: text, category and the review interval it brings,
the author's byline name, the cited references as CSL-JSON, the rendered HTML and every
image shown, by content hash. Submission stores it on a revision; the working copy keeps
its hash, so the admin can tell whether anything changed since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings

from images.models import StoredImage
from images.selectors import images_by_url
from references.citations import candidate_keys, normalize_newlines
from references.models import Reference

from .models import Article
from .rendering import PandocError, RenderedArticle, render_article


def content_hash(
    *,
    title: str,
    summary: str,
    body: str,
    references: Iterable[Mapping],
    hero_image: str = "",
    hero_image_alt: str = "",
    category: Mapping | None = None,
    author_name: str = "",
    images: Iterable[Mapping] = (),
) -> str:
    """SHA-256 over the exact approved content: title, summary, body, reference entries,
    the hero image with its description, the category, the byline and every image shown."""
    canonical = json.dumps(
        {
            "title": title.strip(),
            "summary": normalize_newlines(summary).strip(),
            "body": normalize_markdown(body),
            "references": sorted(references, key=lambda item: item["id"]),
            "hero_image": hero_image,
            "hero_image_alt": hero_image_alt.strip(),
            "category": dict(category) if category else None,
            "author_name": author_name.strip(),
            "images": list(images),
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
    """The library references a body may cite (every `@key` found; pandoc decides which
    are citations), and the candidate keys the library lacks."""
    keys = candidate_keys(body)
    found = {ref.key: ref for ref in Reference.objects.filter(key__in=keys)}
    return [found[k] for k in keys if k in found], [k for k in keys if k not in found]


def author_byline(user) -> str:
    """The author's name as the byline prints it; empty when the account has no real name."""
    return user.get_full_name().strip() if user is not None else ""


@dataclass
class Snapshot:
    """A working copy as a revision would freeze it, and what stands in its way."""

    references: list[Reference]
    references_csl: list[dict]
    rendered: RenderedArticle
    category: dict
    review_interval_days: int
    author_name: str
    images: list[dict]
    content_hash: str
    unknown_keys: list[tuple[str, int]] = field(default_factory=list)  # (key, line)
    # Images the revision would show but this site does not hold, as written.
    unresolved_images: list[str] = field(default_factory=list)
    hero_unresolved: bool = False


def _frozen_images(article: Article, sources: Iterable[str]) -> tuple[list[dict], list[str], bool]:
    sources = list(dict.fromkeys(sources))
    found = images_by_url(sources)
    images: list[dict] = []
    hero_unresolved = False
    if article.hero_image:
        hero = StoredImage.objects.filter(file=article.hero_image.name).first()
        if hero is None:
            hero_unresolved = True
        else:
            images.append({"role": "hero", **hero.as_frozen()})
    images.extend(
        {"role": "body", "src": src, **found[src].as_frozen()} for src in sources if src in found
    )
    return images, [src for src in sources if src not in found], hero_unresolved


def freeze(article: Article, *, style: str | None = None) -> Snapshot:
    """Everything a revision of this working copy would hold, computed once."""
    style = style or settings.CITATION_STYLE
    candidates, _absent = cited_library(article.body)
    rendered = render_article(
        body=article.body, references={ref.key: ref.to_csl() for ref in candidates}, style=style
    )
    # What pandoc really cited, in reference-list order: the revision freezes only these.
    by_key = {ref.key: ref for ref in candidates}
    references = [by_key[key] for key in rendered.cited_keys if key in by_key]
    csl = [ref.to_csl() for ref in references]
    category = article.category
    frozen_category = {"id": category.pk, "name": category.name}
    author_name = author_byline(article.author)
    images, unresolved, hero_unresolved = _frozen_images(article, rendered.image_sources)
    digest = content_hash(
        title=article.title,
        summary=article.summary,
        body=article.body,
        references=csl,
        hero_image=article.hero_image.name or "",
        hero_image_alt=article.hero_image_alt,
        category=frozen_category,
        author_name=author_name,
        images=images,
    )
    return Snapshot(
        references=references,
        references_csl=csl,
        rendered=rendered,
        category=frozen_category,
        review_interval_days=category.effective_review_interval_days,
        author_name=author_name,
        images=images,
        content_hash=digest,
        unknown_keys=list(rendered.unknown_keys),
        unresolved_images=unresolved,
        hero_unresolved=hero_unresolved,
    )


def refresh_working_copy(article: Article) -> None:
    """Recompute what the working copy cites and its hash, after it or a reference changed.

    A body pandoc cannot render is still saved (the writer keeps their work); its hash then
    matches no revision, and submitting it shows the renderer's message.
    """
    try:
        snapshot = freeze(article)
    except PandocError:
        candidates, absent = cited_library(article.body)
        article.working_hash = (
            "unrenderable:"
            + hashlib.sha256(normalize_markdown(article.body).encode("utf-8")).hexdigest()[:51]
        )
        unknown, references = absent, candidates
    else:
        article.working_hash = snapshot.content_hash
        unknown = [key for key, _line in snapshot.unknown_keys]
        references = snapshot.references
    article.unknown_citation_keys = unknown
    Article.objects.filter(pk=article.pk).update(
        working_hash=article.working_hash, unknown_citation_keys=unknown
    )
    article.cited_references.set(references)
