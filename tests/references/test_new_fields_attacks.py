"""The library's new fields (translators, book authors, date ranges, original year and
publisher, volumes, short title, language) attacked through every way in: hostile and
malformed values in BibTeX, RIS, CSL-JSON and the admin, re-imports that change them,
and the pages that show them. A refusal writes nothing; text is never lost in silence."""

from __future__ import annotations

import json

import pytest

from references.importing import apply_import, preview
from references.models import Reference
from tests.builders import make_reference

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
