"""What an import reads from a text, for tests of the readers (no database)."""

from __future__ import annotations

from references.importing import parse


def only_entry(text: str, format: str | None = None):
    """The one entry `text` holds, after checking that nothing in it failed."""
    parsed = parse(text=text, format=format)
    assert [failure.message for failure in parsed.failures] == []
    [entry] = parsed.entries
    return entry
