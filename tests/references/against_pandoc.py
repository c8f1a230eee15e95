"""What the end-to-end comparisons with pandoc share: BibTeX read by pandoc's biblatex
reader, both sides' citations and reference entries as text, and the exact allow-list
check (a new difference fails, and so does a listed one that no longer differs).

Used by test_import_against_pandoc.py (the shared biblatex corpus) and
test_heldout_exports_against_pandoc.py (exports in reference managers' habits).
"""

from __future__ import annotations

import json
import subprocess

import lxml.html

from articles.pandoc import pandoc_binary
from tests.articles.pandoc_citeproc import pandoc_citeproc

# How each listed difference must begin: (b) a deviation README documents, (c) pandoc's
# reading against the style's rule, (d) what the library does not store.
REASON_CLASSES = ("(b)", "(c)", "(d)", "not yet fixed:")


def because(*reasons: str) -> str:
    return "; ".join(reasons)


def words(fragment) -> str:
    return " ".join(fragment.text_content().split())


def fragment(html: str):
    return lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")


def pandoc_csl(arguments: list[str], text: str | None = None) -> tuple[dict, ...]:
    """BibTeX (a file among `arguments`, or `text` on standard input) as pandoc's biblatex
    reader reads it, in CSL-JSON."""
    done = subprocess.run(  # noqa: S603 - our pinned binary
        [pandoc_binary(), "--from=biblatex", "--to=csljson", *arguments],
        input=text.encode() if text is not None else None,
        capture_output=True,
        check=True,
    )
    return tuple(json.loads(done.stdout))


def printed(keys: list[str], citations: list[str], entries: dict[str, str]) -> dict:
    """key → (its in-text citation, its reference-list entry), and the list's order."""
    by_key = {
        key: (citation, entries.get(f"ref-{key}"))
        for key, citation in zip(keys, citations, strict=True)
    }
    return {"by_key": by_key, "order": [id_.removeprefix("ref-") for id_ in entries]}


def pandocs(items: tuple[dict, ...], style: str, keys: list[str], body: str) -> dict:
    """`body` (one citation per paragraph) through `pandoc --citeproc` with `items`."""
    cited = [item for item in items if item["id"] in set(keys)]
    root = fragment(pandoc_citeproc(body, style=style, items=cited))
    refs = root.find(".//div[@id='refs']")
    refs.getparent().remove(refs)
    citations = [words(p) for p in root.iter("p")]
    entries = {}
    for entry in refs.iterfind("div"):
        inline = entry.find("div[@class='csl-right-inline']")  # AMA's number is apart
        entries[entry.get("id")] = words(inline if inline is not None else entry)
    return printed(keys, citations, entries)


def assert_only_listed_differences(
    mine: dict, theirs: dict, keys: list[str], allowed: dict[str, str]
) -> None:
    differing = {key for key in keys if mine["by_key"][key] != theirs["by_key"][key]}
    new = {
        key: {"library": mine["by_key"][key], "pandoc": theirs["by_key"][key]}
        for key in sorted(differing - set(allowed))
    }
    stale = sorted(set(allowed) - differing)
    assert new == {}, "prints differently from pandoc, with no reason listed"
    assert stale == [], "listed as differing from pandoc, but prints the same now"
    # The entries printing alike stand in the same order (a difference moves its own entry).
    same = [key for key in theirs["order"] if key not in allowed]
    assert [key for key in mine["order"] if key not in allowed] == same
