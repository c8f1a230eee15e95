"""Names with a suffix (Jr., Sr., III) print where each style wants them, as pandoc does.

The library keeps a suffix in the family name ("King, Jr."), as BibTeX writes it and the
admin edits it. Handed to citeproc like that, APA printed "King, Jr., M. L." in the list
and "(King, Jr. & Doe, 1964)" in the text; APA 7 (§9.8) and pandoc's own reading of the
same BibTeX give "King, M. L., Jr." and "(King & Doe, 1964)". The yardstick here is the
exported BibTeX read by pandoc's biblatex reader and formatted by `pandoc --citeproc`;
the project's side imports the same file into the library and renders from it.
"""

from __future__ import annotations

import json
import subprocess

import lxml.html
import pytest

from articles.pandoc import pandoc_binary
from articles.rendering import narrative_authors, render_article
from references.importing import apply_import, preview
from references.models import Reference, family_and_suffix
from tests.articles.pandoc_citeproc import pandoc_citeproc

BIBTEX = r"""
@book{king1964,
  author = {King, Jr., Martin Luther and Doe, Jane},
  title = {Why We Can't Wait},
  publisher = {Harper},
  year = {1964},
}
@article{lee2001,
  author = {Lee, Sr., Kim and Ray, Ann and Low, Bo},
  title = {Sleep and Intimacy in Older Couples},
  journal = {Journal of Sleep Research},
  year = {2001},
  volume = {3},
  pages = {1--9},
}
@book{abel2010,
  author = {Abel, III, John},
  title = {Talking with Patients},
  publisher = {Norton},
  year = {2010},
}
"""
BODY = "See [@king1964; @abel2010] and [@lee2001, p. 3]."


def words(fragment) -> str:
    return " ".join(fragment.text_content().split())


def parse(html: str):
    return lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")


def pandoc_reading(style: str) -> tuple[str, list[str]]:
    """The BibTeX as pandoc reads it, formatted by pandoc --citeproc: text and entries."""
    items = json.loads(
        subprocess.run(  # noqa: S603 - our pinned binary
            [pandoc_binary(), "--from=biblatex", "--to=csljson"],
            input=BIBTEX.encode(),
            capture_output=True,
            check=True,
        ).stdout
    )
    root = parse(pandoc_citeproc(BODY, style=style, items=items))
    refs = root.find(".//div[@id='refs']")
    refs.getparent().remove(refs)
    entries = []
    for entry in refs.iterfind("div"):
        inline = entry.find("div[@class='csl-right-inline']")
        entries.append(words(inline if inline is not None else entry))
    return words(root), entries


@pytest.fixture
def library(db) -> dict[str, dict]:
    result = apply_import(plan=preview(text=BIBTEX), update_existing=False)
    assert len(result.created) == 3
    return {reference.key: reference.to_csl() for reference in Reference.objects.all()}


@pytest.mark.parametrize("style", ["apa", "ama"])
def test_suffixes_print_as_pandoc_prints_them_from_the_same_bibtex(library, style):
    rendered = render_article(body=BODY, references=library, style=style)
    entries = [words(li.find("span")) for li in parse(rendered.references_html).iter("li")]
    assert (words(parse(rendered.html)), entries) == pandoc_reading(style)


def test_apa_puts_the_suffix_after_the_initials_and_leaves_it_out_of_the_text(library):
    rendered = render_article(body=BODY, references=library, style="apa")
    assert "King &amp; Doe, 1964" in rendered.html
    assert "Jr" not in words(parse(rendered.html))
    assert "King, M. L., Jr., &amp; Doe, J. (1964)" in rendered.references_html
    assert "Abel, J., III. (2010)" in rendered.references_html


def test_the_library_keeps_the_suffix_in_the_family_name(library):
    """Only what citeproc is handed changes: stored names and the admin's editing do not."""
    assert library["king1964"]["author"][0] == {"family": "King, Jr.", "given": "Martin Luther"}


def test_ama_narrative_names_leave_the_suffix_out(library):
    assert narrative_authors(library["king1964"]) == "King and Doe"
    assert narrative_authors(library["lee2001"]) == "Lee et al"
    rendered = render_article(body="As @king1964 showed.", references=library, style="ama")
    assert "As King and Doe" in rendered.html


@pytest.mark.parametrize(
    ("family", "split"),
    [
        ("King, Jr.", ("King", "Jr.")),
        ("King,Jr", ("King", "Jr")),
        ("Abel, III", ("Abel", "III")),
        ("King", ("King", "")),
        ("King,", ("King,", "")),  # nothing after the comma: no suffix
        (", Jr.", (", Jr.", "")),  # nothing before it
        ("", ("", "")),
    ],
)
def test_family_and_suffix(family, split):
    assert family_and_suffix(family) == split


def test_the_admin_names_the_work_as_the_text_cites_it(library):
    """The library's list and the importer's duplicate warnings say "King & Doe, 1964"."""
    assert Reference.objects.get(key="king1964").short_citation() == "King & Doe, 1964"
