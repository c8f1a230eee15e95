"""The library's new fields (translators, book authors, date ranges, original year and
publisher, volumes, short title, language) attacked through every way in: hostile and
malformed values in BibTeX, RIS, CSL-JSON and the admin, re-imports that change them,
and the pages that show them. A refusal writes nothing; text is never lost in silence."""

from __future__ import annotations

import json

import pytest

from references.importing import apply_import, preview
from references.models import Reference
from tests.builders import make_reference, snapshot

pytestmark = pytest.mark.django_db


def csl_json(**fields) -> str:
    return json.dumps([{"id": "k1", "type": "book", "title": "A book", **fields}])


# --- Date ranges on a re-import -------------------------------------------------------------


def test_a_reimport_with_a_single_year_ends_the_range_the_library_had():
    """The file's date wins as a whole: a range the library had does not outlive it."""
    make_reference("k1", type="book", title="A book", issued_year=1984, issued_end_year=1986)
    plan = preview(text=csl_json(issued={"date-parts": [[1985]]}))
    [item] = plan.items
    assert {c.field: c.new for c in item.changes} == {"issued_year": "1985", "issued_end_year": ""}
    result = apply_import(plan=plan, update_existing=True)
    assert result.applied, result.errors
    reference = Reference.objects.get(key="k1")
    assert (reference.issued_year, reference.issued_end_year) == (1985, None)
    assert reference.to_csl()["issued"] == {"date-parts": [[1985]]}


def test_a_reimport_with_a_year_after_the_range_is_not_refused_at_apply():
    make_reference("k1", type="book", title="A book", issued_year=1984, issued_end_year=1986)
    result = apply_import(
        plan=preview(text=csl_json(issued={"date-parts": [[1990]]})), update_existing=True
    )
    assert result.applied, result.errors
    reference = Reference.objects.get(key="k1")
    assert (reference.issued_year, reference.issued_end_year) == (1990, None)


# --- Too long for the library: named with its line, nothing written -------------------------

LONG_LANGUAGE = "german " + "x" * 60


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"@book{{k1,\n  title = {{A book}},\n  langid = {{{LONG_LANGUAGE}}},\n}}\n", 3),
        (f"TY  - BOOK\nID  - k1\nTI  - A book\nLA  - {LONG_LANGUAGE}\nER  - \n", 4),
        (csl_json(language=LONG_LANGUAGE), 1),
    ],
    ids=["bibtex", "ris", "csl-json"],
)
def test_a_language_too_long_to_keep_fails_with_its_field_and_line_and_writes_nothing(text, line):
    before = snapshot()
    plan = preview(text=text)
    [item] = plan.items
    assert item.status == "failed"
    assert f"language (line {line}): Ensure this value has at most 40 characters" in item.reason
    apply_import(plan=plan, update_existing=True)
    assert snapshot() == before
