"""Bytes to text for every format: UTF-8 only, line breaks normalised, control bytes refused.

Every reader sees the same text, and the admin's confirm step hashes that text, so the
decoding rules live here once.
"""

from __future__ import annotations

import hashlib
import re

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest input the admin accepts (upload or paste); larger files go through
`manage.py import_references`, which has no limit of its own."""


class InputError(ValueError):
    """The input cannot be read at all: wrong encoding, binary data, or a file so broken
    that no record in it can be trusted (invalid JSON, for example). Nothing is imported."""


_UTF8_BOM = b"\xef\xbb\xbf"


def decode_bytes(data: bytes) -> str:
    """Decode an uploaded file. UTF-8 only (a BOM is allowed); anything else is refused.

    We never guess Latin-1: a wrong guess silently turns "Müller" into "MÃ¼ller" in the
    library, and from there into every article that cites it.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            "The file is UTF-16, not UTF-8. Save or export it as UTF-8 (in JabRef: File → "
            "Properties → Encoding; in EndNote: Edit → Preferences → Export → UTF-8; in a "
            "text editor: Save with encoding UTF-8) and try again."
        )
    skipped = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = skipped + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise InputError(
            f"The file is not UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} "
            f"(line {line}) is not valid UTF-8. It was probably saved as Latin-1 or "
            "Windows-1252; save it as UTF-8 and try again."
        ) from error
    text = _without_dos_end_of_file(text)
    check_text(text)
    return normalize_newlines(text)


# Ctrl-Z, DOS's end-of-file mark: old EndNote exports (and some Windows tools since) end
# with it. It marks the end of the text, so it is no sign of a binary file there.
_DOS_END_OF_FILE = "\x1a"


def _without_dos_end_of_file(text: str) -> str:
    """The text without a DOS end-of-file mark after its last line (only there)."""
    return text.rstrip(_DOS_END_OF_FILE)


# C0 control characters other than tab, line breaks and form feed: binary data or a
# corrupted file. They are invalid in XML, so one in a title would break the site's feeds.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def check_text(text: str) -> None:
    """Refuse text with control characters, naming the first one and where it is."""
    match = _CONTROL.search(text)
    if match:
        offset = match.start()
        raise InputError(
            f"The text contains the control character U+{ord(match.group()):04X} at character "
            f"offset {offset} (line {text.count(chr(10), 0, offset) + 1}); it looks like a "
            "binary or damaged file, not a reference list."
        )


def normalize_newlines(text: str) -> str:
    """CRLF and CR become LF, so line numbers and content hashes do not depend on them.

    Browsers send form values with CRLF line breaks; the admin's confirm step hashes the
    text it previewed and the text it got back, which must agree. A leading BOM in pasted
    text goes too.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")


def text_sha256(text: str) -> str:
    return hashlib.sha256(normalize_newlines(text).encode("utf-8")).hexdigest()


_SPACES = re.compile(r"\s+")
_ODD_SPACE = re.compile(r"\s\s|[^\S ]")


def collapse_spaces(value: str) -> str:
    """Every run of whitespace as one space, the ends trimmed: a field as it is stored."""
    # Only spaces, and never two in a row: nothing to collapse (every whitespace character
    # but the space is unprintable, so isprintable() finds them all at C speed).
    if ("  " in value or not value.isprintable()) and _ODD_SPACE.search(value):
        return _SPACES.sub(" ", value).strip()
    return value.strip()


def shortened(text: str, limit: int = 80) -> str:
    """`text` as a message quotes it: whole up to `limit` characters, else cut with "…"."""
    return text if len(text) <= limit else text[: limit - 3] + "…"


def line_of(text: str, offset: int) -> int:
    """The 1-based line of a character offset."""
    return text.count("\n", 0, offset) + 1
