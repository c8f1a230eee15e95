"""The shared biblatex corpus, end to end: imported by the library and rendered by the site,
against pandoc reading the same file and formatting it with `pandoc --citeproc`.

The promise is that references are imported faithfully and that articles print citations
as `pandoc --citeproc` prints them. The yardstick is pandoc's own biblatex reader
(`pandoc --from=biblatex --to=csljson`) with the same pinned binary and CSL file, through
`tests/articles/pandoc_citeproc.py`; the project's side is `preview()` + `apply_import()`
into the test database, `Reference.to_csl()` and `render_article()`. A body cites every
imported entry, one paragraph each, so each in-text citation is compared too.

Every entry must print the same, in-text and in the reference list, in APA and in AMA,
except those in ALLOWED, each with its reason: (b) a deviation README documents,
(c) a pandoc reading the style's rule disagrees with, (d) what the library does not store.
The lists are exact: an entry that starts to differ fails, and so does one listed that no
longer differs (a stale reason). The @set entries are not works; the importer skips them
and says so (`test_only_the_sets_are_skipped`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from articles.rendering import render_article
from references.importing import apply_import, decode_bytes, parse, preview
from references.models import Reference

from .against_pandoc import (
    REASON_CLASSES,
    assert_only_listed_differences,
    because,
    fragment,
    pandoc_csl,
    pandocs,
    printed,
    words,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "biblatex-examples.bib"

pytestmark = pytest.mark.skipif(
    not CORPUS.exists(),
    reason=f"the shared biblatex corpus is not at {CORPUS} (clone beside ../shared/corpora "
    "to run this check)",
)

# --- The differences, each with its reason -------------------------------------------------
# (d) the library's storage model: Reference has no field for these.
PARTICLE = (
    "(d) a name is stored as family and given name, a particle kept with the family name "
    "as written (“von Brandt”, as PubMed writes “van der Heijden” and the admin edits "
    "names): pandoc applies biblatex's default useprefix=false, printing “Brandt, A. von”, "
    "“(Brandt & Hoffmann, 1987)” and sorting under B"
)
# (c) pandoc's reading against the style's rule.
VOLUME_TITLE_AMA = (
    "(c) one volume of a multivolume work is stored as “Main title: Vol. 5. Volume title” "
    "(APA 7 §10.2, as pandoc prints it in APA); pandoc's AMA prints the main title only "
    "and drops the title of the volume cited, which AMA 11 §3.12 (the book's title) needs"
)
PUBLISHERS = (
    "(c) a publisher is read as BibTeX's one-name field, not biblatex's list: unbraced "
    "“Agency for Healthcare Research and Quality” or “Lippincott Williams and Wilkins” is "
    "one publisher (APA 7 §9.29: the name as on the work), which pandoc splits "
    "(“Agency for Healthcare Research; Quality”); the price is “A and B” where this corpus "
    "means two publishers, which APA 7 §9.29 separates with a semicolon"
)


ALLOWED: dict[str, dict[str, str]] = {
    "apa": {
        "brandt": PARTICLE,
        "geer": PARTICLE,
        "hammond": PUBLISHERS,
        "nietzsche:historie": PUBLISHERS,
        "nietzsche:ksa": PUBLISHERS,
        "nietzsche:ksa1": PUBLISHERS,
    },
    "ama": {
        "brandt": PARTICLE,
        "coleridge": VOLUME_TITLE_AMA,
        "geer": PARTICLE,
        "hammond": PUBLISHERS,
        "kant:kpv": VOLUME_TITLE_AMA,
        "kant:ku": VOLUME_TITLE_AMA,
        "knuth:ct:a": VOLUME_TITLE_AMA,
        "knuth:ct:b": VOLUME_TITLE_AMA,
        "knuth:ct:c": VOLUME_TITLE_AMA,
        "knuth:ct:d": VOLUME_TITLE_AMA,
        "knuth:ct:e": VOLUME_TITLE_AMA,
        "nietzsche:historie": because(VOLUME_TITLE_AMA, PUBLISHERS),
        "nietzsche:ksa": PUBLISHERS,
        "nietzsche:ksa1": because(VOLUME_TITLE_AMA, PUBLISHERS),
    },
}
NOT_WORKS = {"set", "stdmodel"}  # the corpus's two @set entries


@functools.cache
def pandoc_items() -> tuple[dict, ...]:
    """The corpus as pandoc's biblatex reader reads it."""
    return pandoc_csl([str(CORPUS)])


def ours(library: dict[str, dict], style: str, keys: list[str], body: str) -> dict:
    rendered = render_article(body=body, references=library, style=style)
    citations = [words(p) for p in fragment(rendered.html).iter("p")]
    entries = {
        li.get("id"): words(li.find("span")) for li in fragment(rendered.references_html).iter("li")
    }
    return printed(keys, citations, entries)


@pytest.fixture
def library(db) -> dict[str, dict]:
    text = decode_bytes(CORPUS.read_bytes())
    result = apply_import(plan=preview(text=text), update_existing=False)
    assert result.errors == [] and result.failed == []
    return {reference.key: reference.to_csl() for reference in Reference.objects.all()}


def test_only_the_sets_are_skipped(library):
    assert {item["id"] for item in pandoc_items()} - set(library) == NOT_WORKS
    assert set(library) <= {item["id"] for item in pandoc_items()}
    skipped = parse(text=decode_bytes(CORPUS.read_bytes())).skipped
    assert {problem.key: problem.reason for problem in skipped} == dict.fromkeys(
        NOT_WORKS, "a @set groups other entries and is not a work itself"
    )


@pytest.mark.parametrize("style", ["apa", "ama"])
def test_the_corpus_prints_as_pandoc_prints_it_but_for_the_listed_reasons(library, style):
    keys = sorted(library)
    assert len(keys) == 90
    body = "\n\n".join(f"[@{key}]" for key in keys)
    mine, theirs = ours(library, style, keys, body), pandocs(pandoc_items(), style, keys, body)
    assert set(mine["order"]) == set(theirs["order"]) == set(keys)

    assert_only_listed_differences(mine, theirs, keys, ALLOWED[style])


def test_the_allow_list_names_only_imported_keys_with_a_reason():
    for style, allowed in ALLOWED.items():
        for key, reason in allowed.items():
            assert key not in NOT_WORKS, (style, key)
            assert reason.startswith(REASON_CLASSES), (style, key)
