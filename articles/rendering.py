"""The one renderer: Pandoc Markdown with citations → sanitized HTML.

The editor's live preview (django-markdownx) and the public page call the same function,
so what the writer sees is what the physician approves is what the reader gets.
One parse: pandoc reads Markdown and citations together and formats them with citeproc
(`articles.pandoc`); this module adds what pandoc does not do (back-links from each
reference to each citation, PubMed links, "et al." for lists that end in "and others",
heading ids apart from the page's own), then nh3 removes everything not on the
allow-list, whoever wrote it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import escape, unescape
from typing import Any
from urllib.parse import unquote

import lxml.html
import nh3
from django.conf import settings

from references.citations import normalize_newlines
from references.models import CITATION_KEY_PATTERN, family_and_suffix

from .pandoc import CITATION_AT, PandocError, run_pandoc
from .pandoc import limits as pandoc_limits

__all__ = ["PandocError", "RenderedArticle", "render_article", "sanitize_html"]

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
    "section",
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
    # `id` only where the renderer itself generates one (see _renderer_ids_only).
    "*": {"title", "lang"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "a": {"href", "aria-label", "id"},
    "span": {"id"},
    "li": {"value", "id"},
    "div": {"id"},
    "section": {"id"},
    "sup": {"id"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "scope", "align"},
}
# Only classes the renderer generates, never a writer's: page and admin stylesheets must
# not be reachable from an article (a writer's class could hide text from the reviewer).
ALLOWED_CLASSES = {
    "a": {"citation", "backlink", "pubmed", "footnote-ref", "footnote-back"},
    "mark": {"citation-error"},
    "sup": {"citation-group"},
    "span": {"reference-entry", "backlinks"},
    "ul": {"reference-list", "reference-list-apa"},
    "ol": {"reference-list", "reference-list-ama"},
    "section": {"footnotes"},
}
# The ids the renderer makes: prefixed heading ids, citation anchors, reference entries,
# footnotes. A writer's own id attributes are removed before these are added.
_RENDERER_ID = re.compile(r"^(section-|cite-|ref-|fn\d+$|fnref\d+$|footnotes$)")
# No javascript:, data: or vbscript: URLs anywhere.
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@dataclass(frozen=True)
class RenderedArticle:
    html: str
    references_html: str
    toc: list[dict]
    cited_keys: tuple[str, ...]
    unknown_keys: tuple[tuple[str, int], ...]  # (key, line): these block submission
    word_count: int
    image_sources: tuple[str, ...] = ()  # every <img src> as written, own or foreign


def sanitize_html(fragment: str, *, image_sources: list[str] | None = None) -> str:
    """Remove everything not on the allow-list: scripts, event handlers, unsafe URLs.

    `image_sources`, if given, collects the source of every image as written, including
    the ones removed here: a revision must account for each picture its text asks for.
    """

    def attribute_filter(element: str, attribute: str, value: str) -> str | None:
        if attribute == "id" and not _RENDERER_ID.match(value):
            return None
        if element == "img" and attribute == "src":
            if image_sources is not None:
                image_sources.append(value)
            return _own_image(value)
        if attribute in ("href", "src") and _hidden_scheme(value):
            return None
        return value

    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=attribute_filter,
    )


_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


def _hidden_scheme(url: str) -> bool:
    """A URL whose scheme, once decoded and rid of blanks and control characters, is not
    allowed (`java%09script:`): no browser should get the chance to guess."""
    decoded = re.sub(r"[\x00-\x20\x7f]", "", unquote(unescape(url))).lower()
    match = _SCHEME.match(decoded)
    return match is not None and match.group(1) not in URL_SCHEMES


def _own_image(src: str) -> str | None:
    """Images come from the clinic's own media only.

    A picture on another host could be swapped after approval, and every reader's visit to
    a health page would be reported to that host.
    """
    return src if src.startswith(settings.MEDIA_URL) else None


# --- What pandoc does not do, done on its output --------------------------------------------

# "and others" in BibTeX: two placeholder authors make every style abbreviate to "et al." in
# the text; in the reference list they are replaced by "et al." after formatting.
ET_AL_MARK = "Zzetalmarkzz"
_ET_AL_IN_ENTRY = re.compile(rf"(?:,?\s*(?:&amp;|&|and)?\s*{ET_AL_MARK})+\.?")


# In the text, citeproc shortens the names to "Cut et al." unless two works would read the
# same: then it names more authors ("Cut, Lee, et al."), placeholders included. A run of
# them, with the "et al." that may follow, is the "et al." itself.
_ET_AL_IN_CITATION = re.compile(rf"(?:,?\s*(?:&|and)?\s*{ET_AL_MARK})+(?:,\s*et al\.)?")


def for_citeproc(item: Mapping) -> dict:
    """A CSL-JSON item as pandoc's citeproc should see it (project-only keys resolved,
    suffixes out of the family name)."""
    prepared = {k: v for k, v in item.items() if not k.startswith("x-")}
    for role in ("author", "editor"):
        if isinstance(prepared.get(role), list):
            prepared[role] = [_name_for_citeproc(name) for name in prepared[role]]
    if item.get("x-et-al"):
        prepared["author"] = list(prepared.get("author", [])) + [{"literal": ET_AL_MARK}] * 2
    return prepared


def _name_for_citeproc(name: Any) -> Any:
    family = name.get("family") if isinstance(name, dict) else None
    if not isinstance(family, str) or "," not in family or name.get("suffix"):
        return name
    family, suffix = family_and_suffix(family)
    return {**name, "family": family, "suffix": suffix} if suffix else name


def _fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


def _inner_html(element) -> str:
    text = escape(element.text or "", quote=False)
    return text + "".join(
        lxml.html.tostring(child, encoding="unicode", with_tail=True) for child in element
    )


def _unwrap(element) -> None:
    """Replace an element by its children (keeping text and tails in place)."""
    parent = element.getparent()
    index = parent.index(element)
    children = list(element)
    if element.text:
        if index == 0:
            parent.text = (parent.text or "") + element.text
        else:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + element.text
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else (parent[index - 1] if index > 0 else None)
    if element.tail:
        if last is not None:
            last.tail = (last.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _et_al_in_citations(root: lxml.html.HtmlElement) -> None:
    """Every placeholder author citeproc named in a citation becomes "et al." (APA 7 §8.18:
    a work whose other authors are unknown has no more names to tell it apart)."""
    for cluster in root.iterfind(".//span[@class='citation']"):
        for element in cluster.iter():
            element.text = _et_al_in_names(element.text)
            if element is not cluster:
                element.tail = _et_al_in_names(element.tail)


def _et_al_in_names(text: str | None) -> str | None:
    """Placeholders in names, as "et al.": "Cut, <mark>, et al." → "Cut et al.", and
    "Cut, Lee, <mark>, et al." → "Cut, Lee, et al." (APA 7 puts a comma before "et al."
    after two names or more, none after one)."""
    if not text or ET_AL_MARK not in text:
        return text
    # The names before each placeholder, back to where its work's citation starts ("(" or
    # ";"), read once from left to right: searching back from each one through the whole
    # text was quadratic in a citation of many works.
    scanned = 0
    names_have_comma = False

    def et_al(match: re.Match) -> str:
        nonlocal scanned, names_have_comma
        since = text[scanned : match.start()]
        start = max(since.rfind("("), since.rfind(";"))
        if start >= 0:
            names_have_comma = "," in since[start + 1 :]
        else:
            names_have_comma = names_have_comma or "," in since
        scanned = match.start()
        return ", et al." if names_have_comma else " et al."

    return _ET_AL_IN_CITATION.sub(et_al, text)


# A cited key as pandoc reads it: in braces, anything up to the closing brace; else a
# letter, digit or `_`, then those and the punctuation `:.#$%&+?<>~/-` up to the last
# letter, digit or `_` (`@a.` cites `a`, `@a.b` cites `a.b`).
_CITED_KEY = re.compile(CITATION_AT + rf"(?:\{{([^{{}}]*)\}}|({CITATION_KEY_PATTERN}))")


def _first_lines(body: str) -> dict[str, int]:
    """The line each key is first cited on, from one pass over the body (searching it
    again for each unknown key took keys times lines)."""
    first: dict[str, int] = {}
    for number, line in enumerate(body.splitlines(), start=1):
        for match in _CITED_KEY.finditer(line):
            key = match.group(1) if match.group(1) is not None else match.group(2)
            first.setdefault(key, number)
    return first


def narrative_authors(item: Mapping) -> str:
    """The names a numeric style puts before a narrative citation: "Rauer and Volling"."""
    people = item.get("author") or item.get("editor") or []
    names = [
        family_and_suffix(str(p.get("family") or ""))[0] or str(p.get("literal") or "")
        for p in people
    ]
    names = [name for name in names if name and name != ET_AL_MARK]
    if not names:
        return str(item.get("title", ""))
    if len(names) > 2 or item.get("x-et-al"):
        return f"{names[0]} et al"
    return " and ".join(names)


def _narratives(root, references: Mapping[str, Mapping], style: str) -> None:
    """Numeric styles print `@key says` as a bare number: put the authors before it.

    The mark (writer_attributes.lua) stands just before the citation; citeproc may have
    put the punctuation it moved between the two, so the names go before that too
    ("Written by Rauer.¹").
    """
    for marker in list(root.iterfind(".//span[@class='x-narrative']")):
        cluster = marker.getnext()
        is_citation = cluster is not None and cluster.get("class") == "citation"
        key = (cluster.get("data-cites") or "").split(" ")[0] if is_citation else ""
        if style == "ama" and key in references:
            marker.text = narrative_authors(references[key])
        _unwrap(marker)


def _link_citations(
    root, body: str, style: str, known: set[str]
) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Give each in-text citation its class and a numbered id for the entry's back-links;
    mark unknown keys with the line they are on. Returns (citations per key, unknown)."""
    counts: dict[str, int] = {}
    unknown: list[tuple[str, int]] = []
    first_lines: dict[str, int] | None = None  # read when the first unknown key is met
    for cluster in list(root.iterfind(".//span[@class='citation']")):
        linked: set[str] = set()
        for link in cluster.iterfind(".//a[@role='doc-biblioref']"):
            linked.add((link.get("href") or "")[len("#ref-") :])
            key = (link.get("href") or "")[len("#ref-") :]
            if link.find("strong") is not None and (link.text_content() or "").endswith("?"):
                if first_lines is None:
                    first_lines = _first_lines(body)
                line = first_lines.get(key, 1)
                if (key, line) not in unknown:
                    unknown.append((key, line))
                mark = lxml.html.Element("mark")
                mark.set("class", "citation-error")
                mark.text = f"unknown citation key “{key}” (line {line})"
                mark.tail = link.tail
                link.getparent().replace(link, mark)
                continue
            counts[key] = counts.get(key, 0) + 1
            href = link.get("href")
            link.attrib.clear()
            link.set("class", "citation")
            link.set("href", href)
            link.set("id", f"cite-{key}-{counts[key]}")
        # A collapsed AMA range (1–4) links only its ends: the numbers inside still need a
        # target for their reference's back-links.
        inside = cluster.find(".//sup") if style == "ama" else cluster
        for key in (cluster.get("data-cites") or "").split():
            if key in known and key not in linked and inside is not None:
                counts[key] = counts.get(key, 0) + 1
                linked.add(key)
                anchor = lxml.html.Element("span")
                anchor.set("id", f"cite-{key}-{counts[key]}")
                inside.insert(0, anchor)
        if style == "ama":
            for sup in cluster.iterfind(".//sup"):
                sup.set("class", "citation-group")
                _colon_outside(cluster, sup)
        _unwrap(cluster)
    return counts, unknown


def _colon_outside(cluster, sup) -> None:
    """AMA 11: superscripts go outside periods and commas (pandoc's notes-after-punctuation
    does that) but inside colons and semicolons, which pandoc also moves.

    citeproc puts the mark it moved inside the citation when no space came before it
    (`word[@a]:`, and every narrative citation, whose mark stands between) and before
    the citation otherwise."""
    previous = cluster.getprevious()
    if cluster.text:
        holder, attribute = cluster, "text"
    elif previous is not None:
        holder, attribute = previous, "tail"
    else:
        holder, attribute = cluster.getparent(), "text"
    before = getattr(holder, attribute) or ""
    if not before or before[-1] not in ":;":
        return
    setattr(holder, attribute, before[:-1])
    cluster.tail = before[-1] + (cluster.tail or "")


def _separate_adjacent_groups(root) -> None:
    """AMA 11 §3.6.1 separates the numbers of one place in the text by commas ("¹,²").
    Two citations with nothing between them (`[@a], [@b]`: citeproc moves the comma and
    drops the space) would print ¹² and read as reference 12: a comma goes between."""
    for sup in list(root.iterfind(".//sup[@class='citation-group']")):
        following = sup.getnext()
        if sup.tail or following is None or following.get("class") != "citation-group":
            continue
        if len(sup):
            sup[-1].tail = (sup[-1].tail or "") + ","
        else:
            sup.text = (sup.text or "") + ","


def _reference_list(
    refs, references: Mapping[str, Mapping], counts: Mapping[str, int], style: str
) -> tuple[str, tuple[str, ...]]:
    """pandoc's reference list as the project's: entries linking back to every citation,
    and on to PubMed where a PMID is known."""
    if refs is None:
        return "", ()
    rows, keys = [], []
    for entry in refs.iterfind("div"):
        key = (entry.get("id") or "")[len("ref-") :]
        keys.append(key)
        value = ""
        content = entry
        if style == "ama":
            margin = entry.find("div[@class='csl-left-margin']")
            right = entry.find("div[@class='csl-right-inline']")
            if margin is not None and right is not None:
                number = (margin.text_content() or "").strip().rstrip(".")
                value = f' value="{escape(number)}"' if number.isdigit() else ""
                content = right
        text = _ET_AL_IN_ENTRY.sub(", et al.", _inner_html(content).strip())
        text = text.replace(", et al.,", ", et al.,")
        pmid = str(references.get(key, {}).get("PMID", "")).strip()
        # ASCII digits only: str.isdigit() also takes "²" and other scripts' digits.
        if pmid.isascii() and pmid.isdigit():
            text += (
                f' <a class="pubmed" href="https://pubmed.ncbi.nlm.nih.gov/{pmid}/">'
                f"PubMed {pmid}</a>"
            )
        backlinks = " ".join(
            f'<a class="backlink" href="#cite-{escape(key)}-{n}" '
            f'aria-label="Back to citation {n} of this source">↩\u00a0{n}</a>'
            for n in range(1, counts.get(key, 0) + 1)
        )
        rows.append(
            f'<li id="ref-{escape(key)}"{value}><span class="reference-entry">{text}</span>'
            f' <span class="backlinks">{backlinks}</span></li>'
        )
    tag = "ol" if style == "ama" else "ul"
    html = f'<{tag} class="reference-list reference-list-{style}">' + "".join(rows) + f"</{tag}>"
    return html, tuple(keys)


def _toc(root) -> list[dict]:
    toc = []
    for heading in root.iter("h2", "h3"):
        if heading.get("id"):
            toc.append(
                {
                    "id": heading.get("id"),
                    "name": escape(_toc_name(heading), quote=False),
                    "level": int(heading.tag[1]),
                }
            )
    return toc


def _toc_name(heading: lxml.html.HtmlElement) -> str:
    """A heading as the contents list's plain text shows it: without note numbers (pandoc's
    table of contents leaves notes out) nor AMA's superscript citation numbers, which
    plain text would join to the word before them ("heart1")."""
    name = copy.deepcopy(heading)
    for number in name.xpath(".//a[@class='footnote-ref'] | .//sup[@class='citation-group']"):
        number.drop_tree()
    return " ".join(name.text_content().split())


def _demote_headings(root) -> None:
    """A `# Heading` in the body becomes h2: one h1 per page, the title."""
    for heading in root.iter("h1"):
        heading.tag = "h2"


def render_article(
    *, body: str, references: Mapping[str, Mapping], style: str | None = None
) -> RenderedArticle:
    """Render an article body with its citations and reference list, through pandoc.

    `references` maps citation keys to CSL-JSON items: the live library for drafts and
    previews, the frozen snapshot for a revision. Raises PandocError when the body cannot be
    rendered within the limits. The result depends on nothing but these inputs (and the
    media address images must start with, and the limits), so the last few renders are
    kept, failures that would repeat included: saving and submitting the same text, or a
    preview repeated as the writer pauses, runs pandoc once.
    """
    rendered = _render_cached(
        normalize_newlines(body),
        json.dumps(references, sort_keys=True, ensure_ascii=False),
        style or settings.CITATION_STYLE,
        settings.MEDIA_URL,
        pandoc_limits(),
    )
    if isinstance(rendered, _Failed):
        raise PandocError(rendered.message, lasting=True)
    return dataclasses.replace(rendered, toc=copy.deepcopy(rendered.toc))


@dataclass(frozen=True)
class _Failed:
    """A render that would fail again on the same input: kept like a result, so a text
    that takes pandoc to its CPU limit (seconds of a worker) costs that once, not on
    every save, submission and preview of it."""

    message: str


@lru_cache(maxsize=128)
def _render_cached(
    body: str, references_json: str, style: str, media_url: str, limits: tuple
) -> RenderedArticle | _Failed:
    references: dict[str, dict] = json.loads(references_json)
    try:
        output = run_pandoc(
            body, references=[for_citeproc(item) for item in references.values()], style=style
        )
    except PandocError as error:
        if error.lasting:
            return _Failed(str(error))
        raise
    root = _fragment(output.html)
    refs = root.find(".//div[@id='refs']")
    if refs is not None and (parent := refs.getparent()) is not None:
        parent.remove(refs)
    _et_al_in_citations(root)
    _narratives(root, references, style)
    counts, unknown = _link_citations(root, body, style, set(references))
    if style == "ama":
        _separate_adjacent_groups(root)
    references_html, cited = _reference_list(refs, references, counts, style)
    _demote_headings(root)
    toc = _toc(root)
    image_sources: list[str] = []
    html = sanitize_html(_inner_html(root), image_sources=image_sources).strip()
    words = len(re.findall(r"\w+", unescape(re.sub(r"<[^>]+>", " ", html))))
    return RenderedArticle(
        html=html,
        references_html=sanitize_html(references_html),
        toc=toc,
        cited_keys=cited,
        unknown_keys=tuple(unknown),
        word_count=words,
        image_sources=tuple(image_sources),
    )


def library_for(body: str) -> dict[str, dict]:
    """CSL-JSON of the library references a body cites (one query)."""
    from .snapshot import cited_library  # imported late: markdownx loads this module early

    references, _unknown = cited_library(body)
    return {ref.key: ref.to_csl() for ref in references}


def _preview_notices(problems: list[str]) -> str:
    items = "".join(f"<li>{problem}</li>" for problem in problems)
    return (
        '<div class="preview-errors" role="alert"><p><strong>Fix before submitting for '
        f"review:</strong></p><ul>{items}</ul></div>"
    )


def markdownify_preview(text: str) -> str:
    """django-markdownx's MARKDOWNX_MARKDOWNIFY_FUNCTION: the public renderer, plus notices.

    Everything that would block submission is listed above the preview, in the words the
    submission would use.
    """
    from images.selectors import images_by_url  # late: markdownx loads this module early

    try:
        rendered = render_article(body=text, references=library_for(text))
    except PandocError as error:
        return _preview_notices([escape(str(error))])
    problems = [
        f"Unknown citation key “{escape(key)}” on line {line}."
        for key, line in rendered.unknown_keys
    ]
    stored = images_by_url(rendered.image_sources)
    for src in dict.fromkeys(rendered.image_sources):
        if src not in stored:
            problems.append(
                f"The image “{escape(src)}” is not a picture uploaded to this site, so it is "
                "not shown: upload it in the editor (pictures from other websites could change "
                "after review, and would tell another site who reads this page)."
            )
    notices = _preview_notices(problems) if problems else ""
    references = ""
    if rendered.references_html:
        references = (
            f'<section class="references"><h2>References</h2>{rendered.references_html}</section>'
        )
    return notices + rendered.html + references
