"""No title text lost: every letter and digit of a title as written in the file is in
the title the library stores.

"As written" means the raw BibTeX value with LaTeX commands' names and braces taken out
(`{\\"o}` counts as an "o", `\\emph{In vivo}` as "In vivo", `{\\textgreater}65` as "65").
Case, accents and markup may change (sentence case, `ö`, `<i>`); letters may not vanish.
The shared biblatex corpus is the yardstick; the samples of the reader tests run too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser.model import Entry

from references.importing import decode_bytes, parse

from .test_read_bibtex import ENDNOTE, JABREF, ZOTERO

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "biblatex-examples.bib"

_COMMAND = re.compile(r"\\(?:[A-Za-z@]+|.)", re.S)


def letters(text: str) -> Counter[str]:
    """Letters and digits, case and accents folded away, counted."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    return Counter(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def raw_titles(text: str) -> dict[str, str]:
    """Each entry's title field as written (with its braces), from bibtexparser alone."""
    titles = {}
    for block in bibtexparser.parse_string(text, parse_stack=[]).blocks:
        entry = getattr(block, "ignore_error_block", block)  # e.g. a repeated annote
        if isinstance(entry, Entry):
            # Field names are case-insensitive: MathSciNet writes TITLE.
            for bib_field in entry.fields:
                if bib_field.key.strip().lower() == "title":
                    titles.setdefault(entry.key, bib_field.value)
                    break
    return titles


def lost_letters(text: str) -> tuple[int, dict[str, str]]:
    """How many title letters the import lost, and which, per entry."""
    stored = {
        # An issue of a journal (@periodical with an issuetitle) is stored as an article
        # would be: the periodical's title is its journal, the container.
        entry.key: entry.fields.get("title", "")
        + (
            " " + entry.fields.get("container_title", "")
            if entry.source_type == "@periodical"
            else ""
        )
        for entry in parse(text=text).entries
    }
    checked, lost = 0, {}
    for key, raw in raw_titles(text).items():
        if key not in stored:
            continue  # @set and @xdata are not works; failures are other tests' business
        checked += 1
        expected = letters(_COMMAND.sub("", raw).replace("{", "").replace("}", ""))
        missing = expected - letters(stored[key])
        if missing:
            lost[key] = f"{raw!r} → {stored[key]!r}: missing {''.join(sorted(missing.elements()))}"
    return checked, lost


def test_no_title_text_is_lost_in_the_biblatex_corpus():
    if not CORPUS.exists():
        pytest.skip(
            f"the shared biblatex corpus is not at {CORPUS} (clone beside ../shared/corpora "
            "to run this check)"
        )
    text = decode_bytes(CORPUS.read_bytes())
    checked, lost = lost_letters(text)
    assert checked == 90
    assert lost == {}, "\n".join(f"{key}: {detail}" for key, detail in lost.items())


@pytest.mark.parametrize("sample", [ENDNOTE, ZOTERO, JABREF], ids=["endnote", "zotero", "jabref"])
def test_no_title_text_is_lost_in_export_samples(sample):
    checked, lost = lost_letters(sample)
    assert checked == 1
    assert lost == {}


def test_the_check_notices_a_loss():
    # The yardstick itself: a title the old import shortened ({\textgreater}65 → "") is
    # caught by it.
    assert letters("Adults aged 65") - letters("Adults aged") == Counter("65")
