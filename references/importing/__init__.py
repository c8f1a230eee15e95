"""Reference import: files in BibTeX, RIS, CSL-JSON or PubMed/MEDLINE → the library.

One seam for every format:

- a *reader* (`references.importing.readers.<format>`, a `Reader`) turns a file's text
  into CSL-JSON items, each with the line (and record number) it came from, plus the
  records it could not read, with their lines and reasons;
- one *engine* (`references.importing.engine`) cleans and validates those items into
  `Reference` fields, plans them against the library (new / changed / unchanged /
  duplicate by key or DOI / failed) for a preview, and applies a plan in one transaction.

Typical use, as the admin and `manage.py import_references` do it::

    text = decode_bytes(upload.read())  # UTF-8 only; InputError otherwise
    plan = preview(text=text)  # parse + plan_import; the format told from the content
    ...show plan, ask...
    result = apply_import(plan=plan, update_existing=False, actor=request.user)

Adding a format is one module in `readers/` that sets `READER = SomethingReader()`.
"""

from .base import BlockProblem, Progress, Reader, ReadResult, SourceItem
from .engine import (
    KEY_RULE,
    FieldChange,
    ImportPlan,
    ImportResult,
    ParsedEntry,
    ParsedImport,
    PlanItem,
    Status,
    apply_import,
    display_value,
    format_name,
    parse,
    parse_bibtex,
    plan_import,
    preview,
    read,
)
from .latex import latex_to_rich_text, latex_to_unicode
from .readers import format_names, get_reader, pick_reader, readers
from .richtext import rich_text_html, rich_text_plain
from .text import (
    MAX_UPLOAD_BYTES,
    InputError,
    check_text,
    decode_bytes,
    normalize_newlines,
    text_sha256,
)

__all__ = [
    "KEY_RULE",
    "MAX_UPLOAD_BYTES",
    "BlockProblem",
    "FieldChange",
    "ImportPlan",
    "ImportResult",
    "InputError",
    "ParsedEntry",
    "ParsedImport",
    "PlanItem",
    "Progress",
    "ReadResult",
    "Reader",
    "SourceItem",
    "Status",
    "apply_import",
    "check_text",
    "decode_bytes",
    "display_value",
    "format_name",
    "format_names",
    "get_reader",
    "latex_to_rich_text",
    "latex_to_unicode",
    "normalize_newlines",
    "parse",
    "parse_bibtex",
    "pick_reader",
    "plan_import",
    "preview",
    "read",
    "readers",
    "rich_text_html",
    "rich_text_plain",
    "text_sha256",
]
