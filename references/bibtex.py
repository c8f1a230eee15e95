"""The BibTeX import's old address, kept so existing imports keep working.

Everything lives in `references.importing` now, which reads RIS, CSL-JSON and PubMed too;
new code should import from there.
"""

from .importing import (
    KEY_RULE,
    MAX_UPLOAD_BYTES,
    BlockProblem,
    FieldChange,
    ImportPlan,
    ImportResult,
    ParsedEntry,
    PlanItem,
    Status,
    apply_import,
    check_text,
    display_value,
    format_name,
    latex_to_unicode,
    normalize_newlines,
    parse_bibtex,
    plan_import,
    text_sha256,
)
from .importing import InputError as BibtexInputError
from .importing import ParsedImport as ParsedBibtex
from .importing import decode_bytes as decode_bibtex_bytes

__all__ = [
    "KEY_RULE",
    "MAX_UPLOAD_BYTES",
    "BibtexInputError",
    "BlockProblem",
    "FieldChange",
    "ImportPlan",
    "ImportResult",
    "ParsedBibtex",
    "ParsedEntry",
    "PlanItem",
    "Status",
    "apply_import",
    "check_text",
    "decode_bibtex_bytes",
    "display_value",
    "format_name",
    "latex_to_unicode",
    "normalize_newlines",
    "parse_bibtex",
    "plan_import",
    "text_sha256",
]
