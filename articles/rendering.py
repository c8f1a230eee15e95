"""The one renderer: Markdown with citations → sanitized HTML.

The editor's live preview (django-markdownx) and the public page call the same function,
so what the writer sees is what the physician approves is what the reader gets.
Order matters: citations are resolved first (outside code), then Markdown becomes HTML,
then nh3 removes everything not on the allow-list, whoever wrote it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape

import markdown
import nh3
from django.conf import settings
from django.utils.html import escape
from markdown.extensions.toc import slugify as toc_slugify
from markdown.inlinepatterns import InlineProcessor

from references.citations import CitationCluster, find_citations, normalize_newlines
from references.formatting import format_citations

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "title", "lang"},
    "a": {"href", "aria-label"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "scope", "align"},
    "code": {"class"},
}
ALLOWED_CLASSES = {
    "a": {"citation", "backlink", "pubmed", "footnote-ref", "footnote-backref"},
    "mark": {"citation-error"},
    "sup": {"citation-group"},
    "span": {"reference-entry", "backlinks"},
    "ul": {"reference-list", "reference-list-apa"},
    "ol": {"reference-list", "reference-list-ama"},
    "div": {"footnote"},
}
# No javascript:, data: or vbscript: URLs anywhere.
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def _heading_id(value: str, separator: str) -> str:
    """Heading ids live beside the page's own (main, ref-…, cite-…): prefix them."""
    return "section-" + toc_slugify(value, separator)


_MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "toc", "smarty"]
_MARKDOWN_CONFIG = {
    "toc": {"toc_depth": "1-3", "permalink": False, "slugify": _heading_id},
    "smarty": {"smart_angled_quotes": False},
}


@dataclass(frozen=True)
class RenderedArticle:
    html: str
    references_html: str
    toc: list[dict]
    cited_keys: tuple[str, ...]
    unknown_keys: tuple[tuple[str, int], ...]  # (key, line): these block submission
    word_count: int


def sanitize_html(fragment: str) -> str:
    """Remove everything not on the allow-list: scripts, event handlers, unsafe URLs."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_own_images_only,
    )


def _own_images_only(element: str, attribute: str, value: str) -> str | None:
    """Images come from the clinic's own media only.

    A picture on another host could be swapped after approval, and every reader's visit to
    a health page would be reported to that host.
    """
    if element == "img" and attribute == "src" and not value.startswith(settings.MEDIA_URL):
        return None
    return value


class _CitationTokens(InlineProcessor):
    """Puts each citation's HTML where its token stands, through Markdown's HTML stash.

    Going through the stash (rather than replacing text afterwards) keeps a citation in a
    heading out of the heading's id, and gives the table of contents its plain text.
    """

    def __init__(self, pattern: str, md: markdown.Markdown, tokens: dict[str, str]):
        super().__init__(pattern, md)
        self.tokens = tokens

    def handleMatch(self, match, data):  # noqa: N802 - Markdown's API
        return self.md.htmlStash.store(self.tokens[match.group(0)]), match.start(0), match.end(0)


def _markdown_to_html(text: str, tokens: dict[str, str], pattern: str) -> tuple[str, list[dict]]:
    md = markdown.Markdown(extensions=_MARKDOWN_EXTENSIONS, extension_configs=_MARKDOWN_CONFIG)
    if tokens:
        # Priority above everything that could split or escape the token.
        md.inlinePatterns.register(_CitationTokens(pattern, md, tokens), "citation_tokens", 200)
    html = md.convert(text)
    return html, _flatten_toc(md.toc_tokens)


def _flatten_toc(tokens: list[dict]) -> list[dict]:
    flat: list[dict] = []
    for token in tokens:
        # Body headings start at h2 (the title is the page's h1), so `#` counts as level 2.
        level = max(token["level"], 2)
        flat.append({"id": token["id"], "name": token["name"], "level": level})
        flat.extend(_flatten_toc(token.get("children", [])))
    return flat


def _substitute_citations(
    text: str, clusters: list[CitationCluster], rendered: tuple[str, ...], *, superscript: bool
) -> tuple[str, dict[str, str], str]:
    """Swap each citation for a token Markdown leaves alone; return text, map and pattern.

    Superscript styles (AMA) set the number right after the word, outside a following
    period or comma: "desires [@a]." reads "desires.¹".
    """
    nonce = secrets.token_hex(4)
    pieces, tokens, position = [], {}, 0
    for index, cluster in enumerate(clusters):
        token = f"zcite{nonce}n{index}z"
        tokens[token] = rendered[index]
        before = text[position : cluster.start]
        end = cluster.end
        if superscript and not cluster.narrative:
            before = before.rstrip(" \t")
            if text[end : end + 1] in (".", ","):
                before += text[end]
                end += 1
        pieces.append(before)
        pieces.append(token)
        position = end
    pieces.append(text[position:])
    return "".join(pieces), tokens, rf"zcite{nonce}n\d+z"


def _demote_headings(html: str) -> str:
    """A `# Heading` in the body becomes h2: one h1 per page, the title."""
    return re.sub(r"<(/?)h1(\b)", r"<\1h2\2", html)


def render_article(
    *, body: str, references: Mapping[str, Mapping], style: str | None = None
) -> RenderedArticle:
    """Render an article body with its citations and reference list.

    `references` maps citation keys to CSL-JSON items: the live library for drafts and
    previews, the frozen snapshot for a revision.
    """
    style = style or settings.CITATION_STYLE
    body = normalize_newlines(body)
    clusters = find_citations(body)
    formatted = format_citations(clusters=clusters, references=references, style=style)
    text, tokens, pattern = _substitute_citations(
        body, clusters, formatted.cluster_html, superscript=style == "ama"
    )
    html, toc = _markdown_to_html(text, tokens, pattern)
    html = sanitize_html(_demote_headings(html))
    words = len(re.findall(r"\w+", unescape(re.sub(r"<[^>]+>", " ", html))))
    return RenderedArticle(
        html=html,
        references_html=sanitize_html(formatted.bibliography_html),
        toc=[entry for entry in toc if entry["level"] <= 3],
        cited_keys=formatted.cited_keys,
        unknown_keys=formatted.unknown,
        word_count=words,
    )


def library_for(body: str) -> dict[str, dict]:
    """CSL-JSON of the library references a body cites (one query)."""
    from .snapshot import cited_library  # imported late: markdownx loads this module early

    references, _unknown = cited_library(body)
    return {ref.key: ref.to_csl() for ref in references}


_IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?![^>]*\ssrc=)")


def markdownify_preview(text: str) -> str:
    """django-markdownx's MARKDOWNX_MARKDOWNIFY_FUNCTION: the public renderer, plus notices."""
    rendered = render_article(body=text, references=library_for(text))
    notices = ""
    problems = [
        f"<li>Unknown citation key “{escape(key)}” on line {line}.</li>"
        for key, line in rendered.unknown_keys
    ]
    if _IMAGE_WITHOUT_SOURCE.search(rendered.html):
        problems.append(
            "<li>Images from other websites are not shown: upload the picture instead.</li>"
        )
    if problems:
        items = "".join(problems)
        notices = (
            '<div class="preview-errors" role="alert"><p><strong>Fix before submitting for '
            f"review:</strong></p><ul>{items}</ul></div>"
        )
    references = ""
    if rendered.references_html:
        references = (
            f'<section class="references"><h2>References</h2>{rendered.references_html}</section>'
        )
    return notices + rendered.html + references
