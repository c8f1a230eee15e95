"""Files an attacker, a broken exporter or a wrong click produce, in every format but
BibTeX: each is refused (or its bad record failed) with the record and line named, never a
500, never a hang, and nothing reaches the library."""

from __future__ import annotations

import io
import time
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from references.importing import MAX_UPLOAD_BYTES, InputError, parse, preview
from references.models import Reference
from tests.builders import (
    IMPORT_URL,
    confirm_fields,
    fastest_cpu_seconds,
    file_writer,
    make_reference,
    snapshot,
)

pytestmark = pytest.mark.django_db

ITEM = '{"id": "k", "type": "book", "title": "T"}'

# CSL-JSON that Python's json module reads into something no page can show or no database
# can store, or fails on with an error that is not a JSONDecodeError.
UNREADABLE_JSON = {
    "nested arrays": "[" * 100_000 + "]" * 100_000,
    "nested inside an item": '[{"id": "k", "title": "T", "x": ' + "[" * 100_000 + "]" * 100_000
    + "}]",
    "nested objects": "[" + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "]",
    "a 5,000-digit number": '[{"id": "k", "title": "T", "volume": ' + "9" * 5000 + "}]",
    "NaN": '[{"id": "k", "title": "T", "volume": NaN}]',
    "Infinity": '[{"id": "k", "title": "T", "page": -Infinity}]',
}  # fmt: skip


@pytest.mark.parametrize("text", UNREADABLE_JSON.values(), ids=UNREADABLE_JSON.keys())
def test_json_the_decoder_cannot_take_is_refused_naming_the_item(text):
    with pytest.raises(InputError) as info:
        parse(text=text, format="csl-json")
    message = str(info.value)
    assert message.startswith("The CSL-JSON is not valid JSON: ")
    assert "in item 1 (which starts at line 1)" in message
    assert "Nothing was imported" in message


@pytest.mark.parametrize("text", UNREADABLE_JSON.values(), ids=UNREADABLE_JSON.keys())
def test_the_admin_refuses_it_without_a_500(admin_client, text):
    before = snapshot()
    response = admin_client.post(IMPORT_URL, {"text": text})
    assert response.status_code == 400
    assert "The CSL-JSON is not valid JSON" in unescape(response.content.decode())
    assert snapshot() == before


def test_the_command_refuses_it_and_writes_nothing(tmp_path: Path):
    path = file_writer(tmp_path, "deep.json")(UNREADABLE_JSON["nested arrays"])
    with pytest.raises(
        CommandError, match=r"nested too deeply in item 1 \(which starts at line 1\)"
    ):
        call_command("import_references", path, stdout=io.StringIO(), stderr=io.StringIO())
    assert not Reference.objects.exists()


# JSON escapes get past the check for control characters in the raw text: "\u0000" is six
# printable characters until the decoder turns it into a NUL, which PostgreSQL refuses, an
# XML feed cannot carry, and (for a lone surrogate) no page can even be encoded with.
ESCAPED = {
    "NUL in a title": r'"title": "nul \u0000 here"',
    "BEL in a title": r'"title": "bell \u0007 here"',
    "lone surrogate in a title": r'"title": "half \ud800 a character"',
    "lone surrogate in a name": r'"title": "T", "author": [{"family": "M\udc00ller"}]',
    "lone surrogate in a field name": r'"title": "T", "x\ud800": "y"',
}


@pytest.mark.parametrize("fields", ESCAPED.values(), ids=ESCAPED.keys())
def test_an_escaped_control_character_fails_its_item_by_record_and_line(fields):
    text = f'[\n  {ITEM},\n  {{"id": "bad", "type": "book", {fields}}}\n]'
    parsed = parse(text=text)
    [failure] = parsed.failures
    assert failure.message.startswith("entry bad (line 3) has the character U+")
    assert "cannot be stored or shown" in failure.reason
    assert [entry.key for entry in parsed.entries] == ["k"]


@pytest.mark.parametrize("fields", ESCAPED.values(), ids=ESCAPED.keys())
def test_the_admin_previews_it_as_failed_and_confirming_writes_only_the_good_item(
    admin_client, fields
):
    text = f'[\n  {ITEM},\n  {{"id": "bad", "type": "book", {fields}}}\n]'
    response = admin_client.post(IMPORT_URL, {"text": text})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "<td>3 (record 2)</td><td>bad</td><td>has the character U+" in html
    assert not Reference.objects.exists()
    assert admin_client.post(IMPORT_URL, confirm_fields(response)).status_code == 302
    assert list(Reference.objects.values_list("key", flat=True)) == ["k"]


def test_whitespace_alone_is_no_items_not_an_error():
    parsed = parse(text=" \n\t\n" * 10, format="csl-json")
    assert (parsed.entries, parsed.failures, parsed.warnings) == ([], [], [])


def test_fifty_megabytes_of_whitespace_is_read_quickly_by_the_command(tmp_path: Path):
    # The command has no size limit: a huge file must still be read in linear time.
    path = tmp_path / "padded.json"
    path.write_bytes(b" " * (50 * 1024 * 1024) + b"[" + ITEM.encode() + b"]")
    started = time.monotonic()
    call_command("import_references", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    # Linear: about 5 s on two busy cores (mostly strip and regex passes over 50 MB);
    # quadratic on 50 MB would not end at all. The bound leaves room for a machine several
    # times slower under load.
    assert time.monotonic() - started < 60
    assert list(Reference.objects.values_list("key", flat=True)) == ["k"]


RIS_IN_PIECES = {
    # An abstract of `n` wrapped lines (800 kB at 400,000, well under the admin's limit).
    "wrapped lines": lambda n: "TY  - JOUR\nTI  - T\nAB  - a\n" + "a\n" * n + "ER  - \n",
    # A link field of `n` pieces that are not addresses.
    "link pieces": lambda n: "TY  - JOUR\nTI  - T\nUR  - https://a.org " + "x " * n + "\nER  - \n",
}


def parse_one_ris_entry(text: str) -> None:
    [entry] = parse(text=text, format="ris").entries
    assert entry.fields["title"] == "T"


def cpu_seconds_to_parse(text: str, *, runs: int) -> float:
    return fastest_cpu_seconds(lambda: parse_one_ris_entry(text), runs=runs)


@pytest.mark.parametrize("name", RIS_IN_PIECES)
def test_a_ris_value_in_many_pieces_is_read_in_linear_time(name):
    # Compared with itself at a sixteenth of the size, so the machine's speed cancels out:
    # linear takes about 16 times as long (measured 9 to 35 on two busy cores); adding the
    # pieces one by one, as before 9435f5e, took 100 to 200 times as long (4 to 10 s at
    # 400,000 pieces), a 5 MB abstract minutes.
    small = cpu_seconds_to_parse(RIS_IN_PIECES[name](25_000), runs=5)
    large = cpu_seconds_to_parse(RIS_IN_PIECES[name](400_000), runs=2)
    assert large < 70 * max(small, 0.001), (small, large)


def test_the_admin_refuses_an_upload_over_the_limit_naming_it(admin_client):
    padded = b" " * MAX_UPLOAD_BYTES + b"[" + ITEM.encode() + b"]"
    response = admin_client.post(IMPORT_URL, {"file": SimpleUploadedFile("padded.json", padded)})
    assert response.status_code == 400
    assert f"more than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB" in response.content.decode()
    assert not Reference.objects.exists()


# --- Files that are not text, or not UTF-8 ----------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
LATIN1_RIS = "TY  - JOUR\nAU  - Müller, Anna\nTI  - Schlafqualität\nPY  - 2020\nER  - \n"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.png", PNG, "is not valid UTF-8"),
        ("export.ris", LATIN1_RIS.encode("latin-1"), "byte 0xfc at byte offset 18 (line 2)"),
        ("export.nbib", b"PMID- 1\nTI  - A\x00B.\n", "control character U+0000"),
        ("export.ris", "TY  - JOUR\n".encode("utf-16"), "The file is UTF-16"),
    ],
)
def test_a_file_that_is_not_utf8_text_is_refused_naming_where(admin_client, name, data, message):
    make_reference("existing")
    before = snapshot()
    response = admin_client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert snapshot() == before


def test_the_command_refuses_a_latin1_file_and_writes_nothing(tmp_path: Path):
    path = file_writer(tmp_path, "export.ris")(LATIN1_RIS.encode("latin-1"))
    with pytest.raises(CommandError, match=r"not UTF-8: byte 0xfc .* \(line 2\)"):
        call_command("import_references", path, stdout=io.StringIO(), stderr=io.StringIO())
    assert not Reference.objects.exists()


@pytest.mark.parametrize(
    ("text", "format"),
    [("", "ris"), ("", "nbib"), ("", "csl-json"), ("\n\n   \n", "ris"), ("\n\n", "nbib")],
)
def test_an_empty_file_previews_nothing_and_raises_nothing(text, format):
    plan = preview(text=text, format=format)
    assert plan.items == []
    assert not Reference.objects.exists()
