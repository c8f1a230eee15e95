"""Held-out audit 2: exports written by hand in the habits of tools the other tests do not
cover (old EndNote on DOS, Scopus's newer RIS names, Scopus conference papers, PubMed
records with several LID lines, slashed raw dates in CSL-JSON). Every case here failed
before its fix.

None of these touch the database.
"""

from __future__ import annotations

import pytest

from references.importing import decode_bytes, parse


def only_entry(text: str, format: str | None = None):
    parsed = parse(text=text, format=format)
    assert [f.message for f in parsed.failures] == []
    [entry] = parsed.entries
    return entry


# --- Old EndNote: the DOS end-of-file byte ------------------------------------------------

ENDNOTE_DOS = (
    b"TY  - JOUR\r\nAU  - World Health Organization,\r\nTI  - Global report on diabetes\r\n"
    b"PY  - 2016///\r\nSP  - 823\r\nEP  - 8\r\nER  - \r\n\r\n\x1a"
)


def test_an_endnote_export_ending_in_the_dos_end_of_file_byte_is_read():
    # DOS-era EndNote (and some Windows tools since) end a file with Ctrl-Z (0x1A): the
    # end of the text, not binary data. Refusing the file for it refused every record.
    text = decode_bytes(ENDNOTE_DOS)
    assert not text.endswith("\x1a")
    entry = only_entry(text)
    assert entry.fields["authors"] == [{"literal": "World Health Organization"}]
    assert entry.fields["pages"] == "823–828"


def test_the_end_of_file_byte_anywhere_else_is_still_refused():
    with pytest.raises(ValueError, match=r"U\+001A"):
        decode_bytes(b"TY  - JOUR\nTI  - A\x1aB\nER  - \n")
