"""Word-level differences between two revisions, for the physician reading a resubmission."""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from references.models import NAME_FIELDS

from .models import Revision

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(old: str, new: str) -> str:
    """HTML of `new` with deletions in <del> and insertions in <ins>; all text escaped."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    out: list[str] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        removed = html.escape("".join(old_tokens[a1:a2]))
        added = html.escape("".join(new_tokens[b1:b2]))
        if op == "equal":
            out.append(added)
        if op in ("delete", "replace"):
            out.append(f"<del>{removed}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{added}</ins>")
    return "".join(out)


_NAME_VARIABLES = frozenset(NAME_FIELDS.values())


def _reference_text(item: dict) -> str:
    """A reference as comparable text: every field, in a stable order."""
    parts = []
    for field in sorted(item):
        if field == "id" or field.startswith("x-"):
            continue
        value = item[field]
        if field in _NAME_VARIABLES:
            value = "; ".join(
                n.get("literal") or f"{n.get('family', '')}, {n.get('given', '')}" for n in value
            )
            if field == "author" and item.get("x-et-al"):
                value += "; et al."
        elif isinstance(value, dict):
            # Every part of a date, a range's end included ("1984/1986").
            value = "/".join(
                "-".join(str(p) for p in parts) for parts in value.get("date-parts") or [[]]
            )
        parts.append(f"{field}: {value}")
    return "\n".join(parts)


@dataclass(frozen=True)
class ReferenceChange:
    key: str
    change: str  # "added", "removed" or "changed"
    diff_html: str


@dataclass(frozen=True)
class RevisionDiff:
    base: Revision | None
    title_html: str
    summary_html: str
    body_html: str
    hero_html: str
    references: list[ReferenceChange]

    @property
    def unchanged(self) -> bool:
        changed = "<ins>" in self.all_html or "<del>" in self.all_html or self.references
        return self.base is not None and not changed

    @property
    def all_html(self) -> str:
        return self.title_html + self.summary_html + self.body_html + self.hero_html


def _hero_text(revision: Revision | None) -> str:
    if revision is None or not revision.hero_image:
        return ""
    return f"{revision.hero_image.name} — {revision.hero_image_alt}"


def diff_revisions(base: Revision | None, revision: Revision) -> RevisionDiff:
    """What changed from `base` (the live revision, or nothing) to `revision`."""
    old_refs = {item["id"]: item for item in (base.references_csl if base else [])}
    new_refs = {item["id"]: item for item in revision.references_csl}
    changes: list[ReferenceChange] = []
    for key in sorted(old_refs.keys() | new_refs.keys()):
        old, new = old_refs.get(key), new_refs.get(key)
        if old == new:
            continue
        kind = "added" if old is None else "removed" if new is None else "changed"
        changes.append(
            ReferenceChange(
                key=key,
                change=kind,
                diff_html=word_diff(_reference_text(old or {}), _reference_text(new or {})),
            )
        )
    return RevisionDiff(
        base=base,
        title_html=word_diff(base.title if base else "", revision.title),
        summary_html=word_diff(base.summary if base else "", revision.summary),
        body_html=word_diff(base.body if base else "", revision.body),
        hero_html=word_diff(_hero_text(base), _hero_text(revision)),
        references=changes,
    )
