"""Citation keys in any script, as pandoc reads them: `@müller2020` is a key in pandoc
(letters and digits are Unicode there), and BibTeX exports carry such keys. The library
takes them, the body finds them and the page links them; the punctuation rules stay."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from articles.rendering import library_for, render_article
from references.importing import parse
from references.models import KEY_RE, Reference
from tests.builders import make_reference

pytestmark = pytest.mark.django_db

KEYS = ["müller2020", "øst:2019", "José_García-2021", "日本2018", "ßmith2017"]


@pytest.mark.parametrize("key", KEYS)
def test_a_key_in_any_script_is_a_citation_key(key):
    reference = Reference(key=key, type="book", title="Schlaf und Herz", issued_year=2020)
    reference.full_clean()  # raises if the key were refused
    assert KEY_RE.fullmatch(key)


@pytest.mark.parametrize("key", ["müller2020.", "-müller", "mül ler", "müller?", ":øst"])
def test_punctuation_still_cannot_start_or_end_a_key(key):
    reference = Reference(key=key, type="book", title="Schlaf", issued_year=2020)
    with pytest.raises(ValidationError) as error:
        reference.full_clean()
    assert "key" in error.value.message_dict


def test_a_bibtex_export_with_such_keys_imports():
    text = (
        "@article{müller2020,\n  title = {Schlaf und Herz},\n  author = {Müller, Anna},\n"
        "  year = {2020},\n  langid = {german},\n}\n\n"
        "@book{øst:2019,\n  title = {Søvn},\n  author = {Øst, Bo},\n  year = {2019},\n}\n"
    )
    parsed = parse(text=text, format="bibtex")
    assert parsed.failures == []
    assert [entry.key for entry in parsed.entries] == ["müller2020", "øst:2019"]


@pytest.mark.parametrize("style", ["apa", "ama"])
def test_the_body_cites_them_and_the_page_links_them(style):
    make_reference("müller2020", authors=[{"family": "Müller", "given": "A."}])
    make_reference("øst:2019", authors=[{"family": "Øst", "given": "B."}], issued_year=2018)
    body = "Sleep matters [@müller2020; @øst:2019], as @müller2020 found."
    library = library_for(body)
    assert set(library) == {"müller2020", "øst:2019"}
    rendered = render_article(body=body, references=library, style=style)
    assert rendered.unknown_keys == ()
    assert rendered.cited_keys == ("müller2020", "øst:2019")
    assert 'id="ref-müller2020"' in rendered.references_html
    # Two citations of müller2020, each with its id and a back-link from the entry.
    for n in (1, 2):
        assert f'id="cite-müller2020-{n}"' in rendered.html
        assert f'href="#cite-müller2020-{n}"' in rendered.references_html
