"""CSL rich text, the form titles are stored in: Unicode where only `<i>`, `<b>`, `<sup>`
and `<sub>` are markup (https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html).

Everything else in the text is text — a `<` in "p < 0.05" or a pasted `<script>` — and is
escaped wherever it is shown.
"""

from __future__ import annotations

import html
import re

from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = ("i", "b", "sup", "sub")
_ESCAPED_TAG = re.compile(r"&lt;(/?)(i|b|sup|sub)&gt;")
_TAG = re.compile(r"</?(?:i|b|sup|sub)>")


def rich_text_html(value: str) -> SafeString:
    """The value as HTML: everything escaped, then the four markup tags, balanced, let back.

    A tag without its partner stays escaped text, so the result never leaves an element
    open in the page around it.
    """
    escaped = html.escape(value or "", quote=True)
    pieces = _ESCAPED_TAG.split(escaped)
    # split() with two groups: text, slash, name, text, slash, name, …
    out: list[str] = []
    open_tags: list[tuple[str, int]] = []  # (name, index in out)
    for index in range(0, len(pieces), 3):
        out.append(pieces[index])
        if index + 2 >= len(pieces):
            break
        closing, name = pieces[index + 1], pieces[index + 2]
        literal = f"&lt;{closing}{name}&gt;"
        if not closing:
            open_tags.append((name, len(out)))
            out.append(literal)  # becomes a tag once its partner is found
        elif open_tags and open_tags[-1][0] == name:
            _, at = open_tags.pop()
            out[at] = f"<{name}>"
            out.append(f"</{name}>")
        else:
            out.append(literal)
    return mark_safe("".join(out))  # noqa: S308 - built from escaped text and fixed tags


def rich_text_plain(value: str) -> str:
    """The value without its markup, for sorting, searching and plain-text contexts."""
    if not value or "<" not in value:
        return value or ""
    return _TAG.sub("", value)
