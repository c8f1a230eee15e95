"""The readers, one module per format, found by looking: a module here that sets
`READER = SomeReader()` (a `references.importing.base.Reader`) is a format the import
reads, offered by `--format`, the admin's menu and detection by content."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from ..base import Reader
from ..text import InputError


@cache
def readers() -> dict[str, Reader]:
    found: dict[str, Reader] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        reader = getattr(module, "READER", None)
        if isinstance(reader, Reader):
            found[reader.name] = reader
    return dict(sorted(found.items(), key=lambda pair: -pair[1].priority))


def format_names() -> list[str]:
    return list(readers())


def get_reader(name: str) -> Reader:
    try:
        return readers()[name]
    except KeyError:
        known = ", ".join(readers())
        raise InputError(f"Unknown format “{name}”; the import reads {known}.") from None


def pick_reader(text: str) -> Reader:
    """The reader most sure the text is its format; BibTeX when none is (it reports what
    it cannot read, line by line)."""
    best: tuple[int, int, Reader] | None = None
    for reader in readers().values():
        score = reader.detect(text)
        if score > 0 and (best is None or (score, reader.priority) > best[:2]):
            best = (score, reader.priority, reader)
    return best[2] if best else readers()["bibtex"]
