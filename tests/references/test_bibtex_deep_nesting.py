"""Braces nested thousands deep, as a hostile or broken file writes them: the entry fails
with its field and line named, in time that does not grow with the square of the depth,
never a 500 (Python's stack) and nothing written."""

from __future__ import annotations

from html import unescape

import pytest

from references.importing import parse
from references.importing.readers.bibtex import MAX_BRACE_DEPTH
from tests.builders import IMPORT_URL, snapshot

pytestmark = pytest.mark.django_db

TOO_DEEP = f"nested more than {MAX_BRACE_DEPTH} levels deep"


def entry(title: str) -> str:
    return "@article{deep,\n  title = {" + title + "},\n  year = {2000},\n}\n"


def braces(depth: int) -> str:
    return "{" * depth + "Sleep" + "}" * depth


HOSTILE = {
    "commands": "\\emph{" * 1000 + "x" + "}" * 1000,
    "braces": braces(20_000),
    "mixed": "\\textbf{{" * 500 + "x" + "}}" * 500,
}


def failure(text: str) -> str:
    parsed = parse(text=text, format="bibtex")
    assert parsed.entries == []
    (failed,) = parsed.failures
    return failed.message


def title(text: str) -> str:
    parsed = parse(text=text, format="bibtex")
    assert parsed.failures == []
    (read,) = parsed.entries
    return read.fields["title"]


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_an_entry_nested_thousands_deep_fails_naming_field_and_line(hostile):
    message = failure(entry(hostile))
    assert "deep" in message and "the field title (line 2) is malformed" in message
    assert TOO_DEEP in message


def test_the_deepest_nesting_read_is_the_limit():
    assert title(entry(braces(MAX_BRACE_DEPTH))) == "Sleep"
    assert TOO_DEEP in failure(entry(braces(MAX_BRACE_DEPTH + 1)))


def test_many_shallow_groups_are_not_too_deep():
    groups = MAX_BRACE_DEPTH * 3
    assert title(entry("{A}" * groups + " {B}")) == "A" * groups + " B"


def test_an_at_string_nested_too_deep_fails_naming_it():
    text = "@string{deep = {" + braces(5000) + "}}\n\n" + entry("Fine")
    messages = [problem.message for problem in parse(text=text, format="bibtex").failures]
    assert any("@string deep" in message and TOO_DEEP in message for message in messages)


@pytest.mark.parametrize("title", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_admin_preview_shows_the_failure_and_writes_nothing(admin_client, title):
    before = snapshot()
    response = admin_client.post(IMPORT_URL, {"text": entry(title)})
    assert response.status_code == 200
    assert TOO_DEEP in unescape(response.content.decode())
    assert snapshot() == before
