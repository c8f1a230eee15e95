"""Held-out malformed BibTeX: each mistake is named with its line, nothing is written, and
no field is lost without a word (a "}" too many used to end an entry early in silence)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from references.importing import parse
from references.models import Reference
from tests.builders import file_writer, snapshot

GOOD = """@article{good1,
  title = {Fine Entry},
  author = {A, B},
  year = {2020},
}
"""

EXTRA_BRACE = (
    GOOD
    + """
@article{extra,
  title = {Extra Close}},
  author = {Doe, Jane},
  year = {2020},
}
"""
)

MISSING_COMMA = (
    GOOD
    + """
@article{nocomma,
  title = {Missing Comma}
  author = {Doe, Jane},
  year = {2020},
}
"""
)

NO_COMMA_AFTER_KEY = (
    GOOD
    + """
@article{nokeycomma
  title = {No Comma after the Key},
  year = {2020},
}
"""
)

UNBALANCED = (
    GOOD
    + """
@article{unbalanced,
  title = {Unbalanced {Brace Title},
  year = {2020},
}

@article{good2, title = {Another}, year = {2021}}
"""
)


def failures(text: str) -> list[str]:
    return [failure.message for failure in parse(text=text, format="bibtex").failures]


def test_a_brace_too_many_fails_the_entry_instead_of_losing_its_fields():
    # Before: the entry was imported without author and year, and nobody was told.
    assert failures(EXTRA_BRACE) == [
        "entry extra (line 7): a “}” too many at line 8 closes the entry early, and "
        "“author = {Doe, Jane}, year = {2020}, }” after it would be lost; remove the "
        "extra “}”"
    ]


def test_text_between_entries_is_still_a_comment():
    text = GOOD + "\nThese are my references, exported by hand.\n\n" + GOOD.replace("good1", "g2")
    assert failures(text) == []


def test_a_missing_comma_is_named_as_one():
    assert failures(MISSING_COMMA) == [
        "entry nocomma (line 7): the field title (line 8) is malformed: a “,” is missing "
        "after its value, before “author =”"
    ]


def test_a_missing_comma_after_the_key_is_named():
    [message] = failures(NO_COMMA_AFTER_KEY)
    assert message.startswith("line 7: the entry has no citation key, or no “,” after it")


def test_unbalanced_braces_name_the_entry_and_line():
    [message] = failures(UNBALANCED)
    assert message.startswith("entry unbalanced (line 7): ")
    assert "noticed at line 12" in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [EXTRA_BRACE, MISSING_COMMA, NO_COMMA_AFTER_KEY, UNBALANCED],
    ids=["extra-brace", "missing-comma", "key-comma", "unbalanced"],
)
def test_the_import_writes_nothing(text, tmp_path: Path):
    Reference.objects.create(key="existing", title="Already here", type="book")
    before = snapshot()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_references",
            file_writer(tmp_path, "refs.bib")(text),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert snapshot() == before


@pytest.mark.django_db
def test_a_twenty_megabyte_file_is_refused_naming_the_limit(admin_client):
    entry = "@article{k%d, title={Title %d}, year=2020, abstract={%s}}\n"
    data = "".join(entry % (i, i, "x" * 2000) for i in range(10_500)).encode()
    assert len(data) > 20 * 1024 * 1024
    before = snapshot()
    response = admin_client.post(
        reverse("admin:references_reference_import"),
        {"file": SimpleUploadedFile("big.bib", data)},
    )
    assert response.status_code == 413
    assert "at most 10 MB" in response.content.decode()
    assert snapshot() == before


def test_an_invalid_key_is_explained_in_plain_text():
    [message] = failures("@article{o'brien2020, title={E}, year=2020}")
    assert message.startswith("entry o'brien2020 (line 1): the citation key is not valid")
    assert "$ % &" in message
    assert "%%" not in message
