"""Which library references a Markdown body may cite, found before pandoc reads it.

Pandoc parses the citations (`[@key]`, `[@key, p. 5]`, `[@a; @b]`, `[-@key]`, `@key`,
`@key [p. 33]`, `[@a][@b]`, `@{key}`): this module only gathers every `@key`-shaped token
as a candidate, code and e-mail addresses included, so the library lookup is a superset
and never misses a key pandoc will cite. What is really cited, and what is unknown, is
pandoc's answer (see articles.rendering).
"""

from __future__ import annotations

import re

from .models import CITATION_KEY_PATTERN

_CANDIDATE = re.compile(rf"@(?:\{{(?P<braced>[^{{}}\s]+)\}}|(?P<bare>{CITATION_KEY_PATTERN}))")


def normalize_newlines(text: str) -> str:
    """Browsers submit textareas with CRLF; parse and hash one form of the text."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def candidate_keys(markdown: str) -> list[str]:
    """Every `@key` in the text, in order of first appearance, without duplicates."""
    keys = (m.group("braced") or m.group("bare") for m in _CANDIDATE.finditer(markdown))
    return list(dict.fromkeys(keys))
