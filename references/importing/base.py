"""What a reader hands to the engine: CSL-JSON-shaped items with the line they came from.

A reader knows one file format and nothing about the library. It returns a `ReadResult`:

- `items`: one `SourceItem` per work, its `csl` a CSL-JSON item (`id` is the citation
  key, empty when the format has none and the engine should make one), with the 1-based
  line where it starts (and, for record formats, its number in the file);
- `failures`: records that cannot be read, each with its line and the reason in plain
  words;
- `skipped`: blocks that are not works (BibTeX `@set`, `@xdata`), reported, never written;
- `warnings`: problems with the file as a whole.

Everything after that — keys, identifiers, page ranges, names, validation, duplicates,
the plan and the write — is the engine's, the same for every format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`, called now and then during long imports."""

PROGRESS_EVERY = 200


def where(key: str, line: int, record: int | None = None) -> str:
    """How messages name an entry: by key when it has one, else by record number."""
    if key:
        return f"entry {key} (line {line})"
    if record is not None:
        return f"record {record} (line {line})"
    return f"line {line}"


@dataclass(frozen=True)
class BlockProblem:
    """A block or record that will not be imported: a failure, or one skipped on purpose."""

    line: int
    key: str
    reason: str
    record: int | None = None

    @property
    def message(self) -> str:
        # "entry KEY (line N) has no title" reads as a sentence; other reasons follow a colon.
        joiner = " " if self.key and self.reason.startswith("has ") else ": "
        return f"{where(self.key, self.line, self.record)}{joiner}{self.reason}"


@dataclass
class SourceItem:
    """One work as a reader found it."""

    # CSL-JSON: "id", "type", "title", "author", "issued", "container-title", "page",
    # "DOI", "URL", "PMID", … Titles may hold CSL rich text (<i>, <b>, <sup>, <sub>).
    # "x-et-al": True when the source says the author list goes on ("and others").
    csl: dict[str, Any]
    line: int
    record: int | None = None
    # CSL variable → the line it came from, so a bad value can be pointed at.
    lines: dict[str, int] = field(default_factory=dict)
    # Sentences about this item, without the "entry KEY (line N)" the engine adds.
    warnings: list[str] = field(default_factory=list)
    # Source fields the library has no place for (abstract, keywords, N2, MH, …): one
    # warning per file sums them up.
    dropped: list[str] = field(default_factory=list)
    # Set by a reader that knows the entry repeats an earlier key (BibTeX).
    duplicate_of_line: int | None = None
    # Why the item cannot be imported, found while reading (reported as a failure unless
    # it turns out to be a duplicate, as for BibTeX entries).
    problem: str = ""
    # The source's own type name, for messages ("@article", "TY JOUR").
    source_type: str = ""


@dataclass
class ReadResult:
    format: str
    items: list[SourceItem] = field(default_factory=list)
    failures: list[BlockProblem] = field(default_factory=list)
    skipped: list[BlockProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Reader:
    """One file format. Subclass it in a module of `references.importing.readers` and set
    `READER = YourReader()` there: the registry finds it, detection asks it, `--format`
    and the admin's format menu offer it."""

    name: ClassVar[str]  # what --format takes: "bibtex", "ris", …
    label: ClassVar[str]  # what people read: "BibTeX / biblatex"
    unit: ClassVar[str] = "record"  # what one work is called in messages
    units: ClassVar[str] = "records"
    extensions: ClassVar[tuple[str, ...]] = ()
    # Among readers that recognise a text equally, the higher wins.
    priority: ClassVar[int] = 0

    def detect(self, text: str) -> int:
        """How sure this reader is that `text` is its format: 0 (no) to 100 (certain)."""
        raise NotImplementedError

    def read(self, text: str, *, progress: Progress | None = None) -> ReadResult:
        raise NotImplementedError
