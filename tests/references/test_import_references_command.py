"""`manage.py import_references`: every format, --format, --dry-run, --update,
--skip-failed, and files that cannot be read."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from references.models import Reference
from tests.builders import file_writer, snapshot

from .test_read_nbib import PUBMED
from .test_read_ris import ENDNOTE, SCOPUS, ZOTERO

pytestmark = pytest.mark.django_db

CSL = json.dumps(
    [
        {
            "id": "who2020",
            "type": "report",
            "title": "Guidelines on physical activity",
            "author": [{"literal": "World Health Organization"}],
            "issued": {"date-parts": [[2020]]},
        }
    ]
)


@pytest.fixture
def file(tmp_path: Path):
    return file_writer(tmp_path, "refs")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_references", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "label", "count"),
    [
        (ENDNOTE + ZOTERO + SCOPUS, "RIS", 4),
        (PUBMED, "PubMed (MEDLINE/nbib)", 4),
        (CSL, "CSL-JSON", 1),
        ("@book{k, title={T}, year=2000}", "BibTeX", 1),
    ],
)
def test_each_format_is_imported(file, text, label, count):
    out = run(file(text))
    assert f"Format: {label}\n" in out
    assert f"New: {count}\n" in out
    assert f"Imported: {count} new, 0 updated." in out
    assert Reference.objects.count() == count


def test_a_second_run_changes_nothing(file):
    path = file(ENDNOTE + ZOTERO)
    run(path)
    before = snapshot()
    out = run(path)
    assert "New: 0\n" in out and "Unchanged: 3\n" in out
    assert snapshot() == before


def test_format_can_be_forced(file):
    out = run(file(ENDNOTE), "--format", "ris")
    assert "Format: RIS" in out
    with pytest.raises(CommandError, match="invalid choice: 'endnote'"):
        run(file(ENDNOTE), "--format", "endnote")


def test_dry_run_writes_nothing(file):
    out = run(file(PUBMED), "--dry-run")
    assert "New: 4\n" in out
    assert "Dry run: nothing was written." in out
    assert not Reference.objects.exists()


def test_malformed_records_exit_non_zero_and_write_nothing(file):
    broken = ENDNOTE + "TY  - JOUR\nTI  - Unfinished\nPY  - 2020\n"
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 record\(s\) failed; nothing was imported"):
        call_command("import_references", file(broken), stdout=out, stderr=io.StringIO())
    assert (
        "failed: record 2 (line 23): the file ends before this record's “ER  - ” line"
        in out.getvalue()
    )
    assert not Reference.objects.exists()


def test_skip_failed_imports_the_rest(file):
    broken = ENDNOTE + "TY  - JOUR\nTI  - Unfinished\nPY  - 2020\n"
    with pytest.raises(CommandError, match=r"1 record\(s\) failed and were skipped"):
        run(file(broken), "--skip-failed")
    assert list(Reference.objects.values_list("key", flat=True)) == ["parker2019emotional"]


def test_invalid_csl_json_names_item_and_line_and_writes_nothing(file):
    text = '[\n  {"id": "a", "type": "book", "title": "A"},\n  {"id": "b", "title": }\n]'
    with pytest.raises(CommandError, match=r"Expecting value at line 3, column 24, in item 2"):
        run(file(text))
    assert not Reference.objects.exists()


def test_update_overwrites_changed_references(file):
    path = file(CSL)
    run(path)
    Reference.objects.filter(key="who2020").update(title="Old")
    out = run(path)
    assert "Changed: 1 (not updated: use --update)" in out
    assert Reference.objects.get(key="who2020").title == "Old"
    run(path, "--update")
    assert Reference.objects.get(key="who2020").title == "Guidelines on physical activity"


def test_large_files_have_no_size_limit(file):
    # The admin stops at 5 MB; the command reads what it is given.
    abstract = "Background. " * 500
    records = "".join(
        f"TY  - JOUR\nAU  - Author{i}, A.\nTI  - Study {i}\nPY  - 2020\nN2  - {abstract}\nER  - \n"
        for i in range(1000)
    )
    assert len(records.encode()) > 5 * 1024 * 1024
    out = run(file(records), "--dry-run")
    assert "New: 1000\n" in out


def test_import_bibtex_reads_bibtex_unless_told_otherwise(file):
    out = io.StringIO()
    call_command("import_bibtex", file(ENDNOTE), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "Format: BibTeX" in out.getvalue()
    assert "New: 0\n" in out.getvalue()
    out = io.StringIO()
    call_command(
        "import_bibtex", file(ENDNOTE), "--format", "ris", "--dry-run", stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip
    assert "New: 1\n" in out.getvalue()
