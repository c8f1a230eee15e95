"""Planning an import against the library, and applying it in one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from references.bibtex import (
    Status,
    apply_import,
    decode_bibtex_bytes,
    parse_bibtex,
    plan_import,
)
from references.models import Reference
from tests.builders import make_article, make_category, make_writer, snapshot

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "biblatex-examples.bib"

pytestmark = pytest.mark.django_db


def plan(text: str):
    return plan_import(parsed=parse_bibtex(text=text))


def existing(key: str, **fields) -> Reference:
    defaults = {"type": "article-journal", "title": f"Title of {key}", "issued_year": 2019}
    return Reference.objects.create(key=key, **{**defaults, **fields})


PARKER = """@article{parker2019,
  author = {Parker, Sarah J. and Lee, Kim},
  title = {Emotional intimacy and sexual satisfaction},
  journal = {The Journal of Sex Research},
  year = 2019, volume = 56, number = 4, pages = {540--552},
  doi = {10.1080/00224499.2019.1565234},
}
"""


# --- The corpus -------------------------------------------------------------------------


def test_corpus_imports_and_a_second_run_is_all_unchanged():
    if not CORPUS.exists():
        pytest.skip(f"the biblatex example corpus is not at {CORPUS}")
    text = decode_bibtex_bytes(CORPUS.read_bytes())

    first = plan(text)
    assert first.counts == {"new": 90, "changed": 0, "unchanged": 0, "duplicate": 0, "failed": 0}
    result = apply_import(plan=first, update_existing=False)
    assert result.applied
    assert len(result.created) == 90
    assert Reference.objects.count() == 90
    assert not Reference.objects.filter(key__in=["set", "stdmodel"]).exists()

    stored = Reference.objects.get(key="aksin")
    assert stored.authors[0] == {"family": "Aksın", "given": "Özge"}
    assert stored.container_title == "J. Organomet. Chem."
    assert Reference.objects.get(key="ctan").accessed.isoformat() == "2006-10-01"

    before = snapshot()
    second = plan(text)
    assert second.counts == {
        "new": 0,
        "changed": 0,
        "unchanged": 90,
        "duplicate": 0,
        "failed": 0,
    }
    result = apply_import(plan=second, update_existing=True)
    assert (result.created, result.updated, result.unchanged) == ([], [], 90)
    assert snapshot() == before


# --- New, changed, unchanged ------------------------------------------------------------


def test_new_entry_is_created_with_converted_fields():
    result = apply_import(plan=plan(PARKER), update_existing=False)
    assert result.created == ["parker2019"]
    ref = Reference.objects.get(key="parker2019")
    assert ref.authors == [
        {"family": "Parker", "given": "Sarah J."},
        {"family": "Lee", "given": "Kim"},
    ]
    assert (ref.issued_year, ref.volume, ref.issue, ref.pages) == (2019, "56", "4", "540–552")
    assert ref.doi == "10.1080/00224499.2019.1565234"
    assert ref.short_citation() == "Parker & Lee, 2019"


def test_changed_entry_shows_a_field_diff_and_is_kept_without_update():
    apply_import(plan=plan(PARKER), update_existing=False)
    Reference.objects.filter(key="parker2019").update(title="Old title", volume="55")
    before = snapshot()

    planned = plan(PARKER)
    [item] = planned.changed
    assert {(c.field, c.old, c.new) for c in item.changes} == {
        ("title", "Old title", "Emotional intimacy and sexual satisfaction"),
        ("volume", "55", "56"),
    }
    assert [c.label for c in item.changes] == ["title", "volume"]

    result = apply_import(plan=planned, update_existing=False)
    assert result.not_updated == ["parker2019"]
    assert result.updated == []
    assert snapshot() == before


def test_changed_entry_is_updated_when_asked():
    apply_import(plan=plan(PARKER), update_existing=False)
    Reference.objects.filter(key="parker2019").update(title="Old title")
    result = apply_import(plan=plan(PARKER), update_existing=True)
    assert result.updated == ["parker2019"]
    assert Reference.objects.get(key="parker2019").title == (
        "Emotional intimacy and sexual satisfaction"
    )


def test_fields_the_file_leaves_empty_keep_the_library_value():
    apply_import(plan=plan(PARKER), update_existing=False)
    # Someone added the PMID and a note in the admin; the .bib file has neither.
    Reference.objects.filter(key="parker2019").update(pmid="30700000", note="Checked")
    planned = plan(PARKER)
    assert [item.status for item in planned.items] == [Status.UNCHANGED]
    apply_import(plan=planned, update_existing=True)
    ref = Reference.objects.get(key="parker2019")
    assert (ref.pmid, ref.note) == ("30700000", "Checked")


def test_changed_entry_reports_how_many_articles_cite_it():
    existing("parker2019", title="Old")
    user = make_writer("w")
    category = make_category(name="C", slug="c")
    for slug in ("one", "two"):
        make_article(
            user, slug=slug, category=category, title=slug, summary="s", body="[@parker2019]"
        )
    [item] = plan(PARKER).changed
    assert item.cited_by == 2


def test_author_list_diff_is_readable():
    existing("k", authors=[{"family": "Smith", "given": "J."}])
    [item] = plan(
        "@article{k, title={Title of k}, year=2019, author={Smith, J. and others}}"
    ).changed
    assert {(c.field, c.old, c.new) for c in item.changes} == {
        ("authors_et_al", "no", "yes"),
    }
    [item] = plan("@article{k, title={Title of k}, year=2019, author={Smith, Jo}}").changed
    assert [(c.field, c.old, c.new) for c in item.changes] == [
        ("authors", "Smith, J.", "Smith, Jo")
    ]


# --- Duplicates -------------------------------------------------------------------------


def test_same_key_twice_in_a_file_imports_the_first_only():
    planned = plan(
        "@article{k, title={First}, year=2000}\n\n@article{k, title={Second}, year=2001}\n"
    )
    assert [(i.status, i.line) for i in planned.items] == [
        (Status.NEW, 1),
        (Status.DUPLICATE, 3),
    ]
    assert planned.duplicates[0].reason == (
        "the key k is used twice in this file; the entry at line 1 is the one imported"
    )
    result = apply_import(plan=planned, update_existing=True)
    assert (result.created, result.duplicates) == (["k"], 1)
    assert list(Reference.objects.values_list("title", flat=True)) == ["First"]


def test_same_doi_as_an_existing_reference_under_another_key_is_a_duplicate():
    existing("parker-old", doi="10.1080/00224499.2019.1565234")
    before = snapshot()
    # DOIs are case-insensitive.
    planned = plan(PARKER.replace("10.1080/00224499.2019.1565234", "10.1080/00224499.2019.1565234"
                                  .upper()))  # fmt: skip
    [item] = planned.duplicates
    assert item.key == "parker2019"
    assert "already belongs to the reference parker-old" in item.reason
    result = apply_import(plan=planned, update_existing=True)
    assert result.created == []
    assert snapshot() == before


def test_same_doi_twice_in_one_file_keeps_the_first():
    planned = plan(
        "@article{a, title={A}, year=2000, doi={10.1000/same}}\n"
        "@article{b, title={B}, year=2000, doi={https://doi.org/10.1000/same}}\n"
    )
    assert [(i.key, i.status) for i in planned.items] == [
        ("a", Status.NEW),
        ("b", Status.DUPLICATE),
    ]
    assert (
        planned.duplicates[0].reason
        == "the DOI 10.1000/same is also on entry a (line 1) in this file"
    )
    apply_import(plan=planned, update_existing=False)
    assert list(Reference.objects.values_list("key", flat=True)) == ["a"]


def test_same_key_and_same_doi_is_not_a_duplicate():
    existing("parker2019", doi="10.1080/00224499.2019.1565234", title="Old")
    planned = plan(PARKER)
    assert [i.status for i in planned.items] == [Status.CHANGED]


# --- Failures, titles, years ------------------------------------------------------------


def test_failed_entries_are_never_written_and_the_rest_is():
    planned = plan(
        "@article{good, title={Good}, year=2000}\n"
        "@article{untitled, year=2000}\n"
        "@article{bad, title={Bad}, year=2000, doi={nope}}\n"
        "@article{broken, title = {Unclosed, year = 2000\n"
    )
    assert [(i.key, i.status, i.line) for i in planned.items] == [
        ("good", Status.NEW, 1),
        ("untitled", Status.FAILED, 2),
        ("bad", Status.FAILED, 3),
        ("broken", Status.FAILED, 4),
    ]
    assert planned.failed[0].message.startswith("entry untitled (line 2) has no title")
    result = apply_import(plan=planned, update_existing=False)
    assert result.created == ["good"]
    assert [i.key for i in result.failed] == ["untitled", "bad", "broken"]
    assert list(Reference.objects.values_list("key", flat=True)) == ["good"]


def test_entry_without_a_year_is_imported_with_a_warning():
    planned = plan("@misc{undated, title={Undated}}")
    assert planned.warnings == ["entry undated (line 1) has no year; it will be cited as “n.d.”"]
    apply_import(plan=planned, update_existing=False)
    ref = Reference.objects.get(key="undated")
    assert ref.issued_year is None
    assert ref.short_citation().endswith("n.d.")


def test_html_in_a_title_is_stored_verbatim_as_text():
    title = '<script>alert("x")</script> <a href="javascript:alert(1)">click</a>'
    apply_import(plan=plan(f"@article{{x, title={{{title}}}, year=2000}}"), update_existing=False)
    assert Reference.objects.get(key="x").title == title


# --- All or nothing ---------------------------------------------------------------------


def test_a_conflict_while_writing_rolls_everything_back():
    planned = plan(
        "@article{a, title={A}, year=2000}\n"
        "@article{b, title={B}, year=2000, doi={10.1000/taken}}\n"
        "@article{c, title={C}, year=2000}\n"
    )
    assert len(planned.new) == 3
    # Between preview and confirm, someone else takes b's DOI.
    existing("other", doi="10.1000/taken")
    before = snapshot()
    result = apply_import(plan=planned, update_existing=False)
    assert not result.applied
    assert result.created == []
    assert len(result.errors) == 1
    assert result.errors[0].startswith("entry b (line 2): ")
    assert snapshot() == before


def test_a_reference_deleted_since_the_plan_rolls_back():
    existing("k", title="Old")
    planned = plan("@article{n, title={New}, year=2000}\n@article{k, title={Changed}, year=2019}")
    Reference.objects.filter(key="k").delete()
    result = apply_import(plan=planned, update_existing=True)
    assert not result.applied
    assert result.errors == ["entry k (line 2) was deleted from the library since the preview"]
    assert not Reference.objects.exists()


def test_plan_fingerprint_changes_when_the_library_does():
    text = "@article{k, title={T}, year=2000}"
    first = plan(text).fingerprint()
    assert plan(text).fingerprint() == first
    existing("k", title="Different")
    assert plan(text).fingerprint() != first


def test_large_library_is_looked_up_in_slices():
    # More keys and DOIs than SQLite allows parameters in one query.
    text = "".join(
        f"@article{{k{i}, title={{T{i}}}, year=2000, doi={{10.1000/{i}}}}}\n" for i in range(1001)
    )
    planned = plan(text)
    assert planned.counts["new"] == 1001
    apply_import(plan=planned, update_existing=False)
    assert plan(text).counts["unchanged"] == 1001
