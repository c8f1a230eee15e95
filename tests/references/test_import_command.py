"""`manage.py import_bibtex`: summary, exit status, --dry-run, --update, --skip-failed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from references.management.commands.import_bibtex import Command
from references.models import Reference
from tests.builders import file_writer, snapshot

pytestmark = pytest.mark.django_db

GOOD = """@article{parker2019,
  author = {Parker, Sarah J. and Lee, Kim and others},
  title = {Emotional intimacy and sexual satisfaction},
  journal = {The Journal of Sex Research},
  year = 2019, volume = 56, number = 4, pages = {540--552},
  doi = {https://doi.org/10.1080/00224499.2019.1565234},
}

@book{apa2013,
  author = {{American Psychiatric Association}},
  title = {Diagnostic and Statistical Manual of Mental Disorders},
  edition = {5}, publisher = {American Psychiatric Publishing}, year = 2013,
}
"""

BROKEN = """@article{untitled,
  year = 2000,
}

@article{unclosed,
  title = {Never closed,
  year = 2001

@article{fine, title = {Fine}, year = 2002}

@article{junk, title = {T} ^%$§ garbage, year = 2003}
"""


@pytest.fixture
def bib(tmp_path: Path):
    return file_writer(tmp_path, "refs.bib")


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_bibtex", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_and_prints_a_summary(bib):
    out, err = run(bib(GOOD))
    assert "New: 2\n" in out
    assert "Changed: 0\n" in out
    assert "Unchanged: 0\n" in out
    assert "Duplicates: 0\n" in out
    assert "Failed: 0" in out
    assert "Imported: 2 new, 0 updated." in out
    assert err == ""  # no progress counter when output is not a terminal
    parker = Reference.objects.get(key="parker2019")
    assert parker.authors_et_al is True
    assert parker.doi == "10.1080/00224499.2019.1565234"
    assert Reference.objects.get(key="apa2013").authors == [
        {"literal": "American Psychiatric Association"}
    ]


def test_second_run_reports_everything_unchanged(bib):
    path = bib(GOOD)
    run(path)
    before = snapshot()
    out, _ = run(path)
    assert "New: 0\n" in out
    assert "Unchanged: 2\n" in out
    assert snapshot() == before


def test_failed_blocks_exit_non_zero_and_write_nothing(bib):
    before = snapshot()
    with pytest.raises(CommandError, match=r"3 block\(s\) failed; nothing was imported"):
        run(bib(BROKEN))
    assert snapshot() == before
    assert before.references == []


def test_failures_are_listed_with_line_and_reason(bib):
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_bibtex", bib(BROKEN), stdout=out, stderr=io.StringIO())
    report = out.getvalue()
    assert "failed: entry untitled (line 1) has no title" in report
    assert "failed: entry unclosed (line 5): " in report
    assert "noticed at line 9" in report
    assert "failed: entry junk (line 11): the field title (line 11) is malformed" in report


def test_exit_status_is_one_from_the_command_line(bib, monkeypatch):
    # run_from_argv closes every connection when it ends, which on PostgreSQL would end
    # the test's own transaction; keep it open so the database can still be checked.
    from django.core.management import base

    monkeypatch.setattr(base.connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as info:
        Command(stdout=io.StringIO(), stderr=io.StringIO()).run_from_argv(
            ["manage.py", "import_bibtex", bib(BROKEN)]
        )
    assert info.value.code == 1
    assert not Reference.objects.exists()


def test_skip_failed_imports_the_rest_and_still_exits_non_zero(bib):
    with pytest.raises(CommandError, match=r"3 block\(s\) failed and were skipped"):
        run(bib(BROKEN), "--skip-failed")
    assert list(Reference.objects.values_list("key", flat=True)) == ["fine"]


def test_dry_run_writes_nothing(bib):
    out, _ = run(bib(GOOD), "--dry-run")
    assert "New: 2\n" in out
    assert "Dry run: nothing was written." in out
    assert not Reference.objects.exists()


def test_dry_run_with_failures_still_exits_non_zero(bib):
    with pytest.raises(CommandError):
        run(bib(BROKEN), "--dry-run", "--skip-failed")
    assert not Reference.objects.exists()


def test_changed_entries_are_reported_but_kept_without_update(bib):
    path = bib(GOOD)
    run(path)
    Reference.objects.filter(key="parker2019").update(volume="99")
    before = snapshot()
    out, _ = run(path)
    assert "Changed: 1 (not updated: use --update)" in out
    assert "volume: 99 → 56" in out
    assert snapshot() == before


def test_update_overwrites_changed_entries(bib):
    path = bib(GOOD)
    run(path)
    Reference.objects.filter(key="parker2019").update(volume="99")
    out, _ = run(path, "--update")
    assert "Imported: 0 new, 1 updated." in out
    assert Reference.objects.get(key="parker2019").volume == "56"


def test_duplicates_are_reported_and_not_written(bib):
    Reference.objects.create(
        key="someone-else", title="Same DOI", doi="10.1080/00224499.2019.1565234"
    )
    before = snapshot()
    out, _ = run(bib(GOOD))
    assert "Duplicates: 1\n" in out
    assert "already belongs to the reference someone-else" in out
    assert len(snapshot().references) == len(before.references) + 1  # only apa2013


def test_non_utf8_file_is_refused(bib):
    path = bib("@book{k, title = {Müller}, year = 2000}".encode("latin-1"))
    with pytest.raises(CommandError, match=r"not UTF-8: byte 0xfc at byte offset 19 \(line 1\)"):
        run(path)
    assert not Reference.objects.exists()


def test_binary_file_is_refused(bib):
    with pytest.raises(CommandError, match=r"control character U\+0001 .* \(line 2\)"):
        run(bib(b"@book{k,\n title={\x01\x02\x03}}"))
    assert not Reference.objects.exists()


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nowhere.bib"))


def test_progress_counter_when_stdout_is_a_terminal(bib):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = Terminal(), io.StringIO()
    call_command("import_bibtex", bib(GOOD), stdout=out, stderr=err)
    assert "\rreading entries: 2/2" in err.getvalue()
    assert "\rwriting: 2/2" in err.getvalue()
    assert "Imported: 2 new" in out.getvalue()


def test_a_ten_megabyte_file_is_imported(bib):
    # Real exports carry abstracts (never stored): about 4 KB an entry.
    abstract = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 70
    entries = [
        f"@article{{big{i},\n  author = {{Author{i}, A. and Other, B.}},\n"
        f'  title = {{Study number {i} of {{BRCA1}} in M{{\\"u}}nchen}},\n'
        f"  journal = {{Journal {i % 50}}}, year = {1990 + i % 30}, volume = {i % 90},\n"
        f"  pages = {{{i}--{i + 9}}}, doi = {{10.5555/big.{i}}},\n"
        f"  abstract = {{{abstract}}},\n}}\n\n"
        for i in range(2600)
    ]
    text = "".join(entries)
    assert len(text.encode()) > 10 * 1024 * 1024
    out, _ = run(bib(text))
    assert "New: 2600\n" in out
    assert Reference.objects.count() == 2600
    # English titles are stored in sentence case: only braced words keep their capitals.
    assert Reference.objects.get(key="big42").title == "Study number 42 of BRCA1 in münchen"
