"""The project renders citations as Pandoc does, except where it follows APA 7 or AMA 11
more closely (each deviation is listed in the README and tested here on its own).

A document using every citation form Pandoc reads, over references of every CSL type the
importers produce, goes through the project's renderer and through the pinned pandoc with
the same CSL file and CSL-JSON; the text of the body and of every reference entry must be
identical.
"""

from __future__ import annotations

import re

import lxml.html
import pytest

from articles.rendering import render_article
from tests.articles.pandoc_citeproc import pandoc_citeproc

STYLES = ("apa", "ama")


def item(key: str, kind: str = "article-journal", **fields) -> dict:
    base = {
        "id": key,
        "type": kind,
        "title": f"Findings about {key}: a study",
        "author": [{"family": key.title(), "given": "A. B."}],
        "issued": {"date-parts": [[2019]]},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


LIBRARY = {
    "parker2019": item(
        "parker2019",
        author=[
            {"family": "Parker", "given": "S. J."},
            {"family": "Lee", "given": "K."},
            {"family": "Smith", "given": "R."},
        ],
        **{"container-title": "The Journal of Sex Research", "volume": "56", "issue": "5"},
        page="545-556",
        DOI="10.1080/00224499.2019.1610151",
    ),
    "rauer2015": item(
        "rauer2015",
        author=[{"family": "Rauer", "given": "A."}, {"family": "Volling", "given": "B."}],
        issued={"date-parts": [[2015]]},
        **{"container-title": "Journal of Marriage and Family", "volume": "77"},
        page="1-10",
    ),
    "knuth1986a": item("knuth1986a", "book", author=[{"family": "Knuth", "given": "D."}],
                       issued={"date-parts": [[1986]]}, publisher="Addison-Wesley"),
    "knuth1986b": item("knuth1986b", "book", author=[{"family": "Knuth", "given": "D."}],
                       issued={"date-parts": [[1986]]}, title="The METAFONTbook",
                       publisher="Addison-Wesley"),
    "chapter2010": item("chapter2010", "chapter", editor=[{"family": "Gross", "given": "J."}],
                        **{"container-title": "Handbook of emotion regulation"},
                        page="3-20", publisher="Guilford"),
    "edited2007": item("edited2007", "book", author=None,
                       editor=[{"family": "Gross", "given": "J."}], publisher="Guilford"),
    "thesis2012": item("thesis2012", "thesis", genre="PhD thesis", publisher="UCLA"),
    "report2020": item("report2020", "report", author=[{"literal": "World Health Organization"}],
                       publisher="WHO", URL="https://www.who.int/report"),
    "web2021": item("web2021", "webpage", author=None, URL="https://example.org/page",
                    **{"container-title": "Mental Health Center"}),
    "conf2018": item("conf2018", "paper-conference",
                     **{"container-title": "Proceedings of the Sleep Meeting"}, page="12-19"),
}  # fmt: skip

# Every citation form Pandoc reads. AMA prints narrative citations differently on purpose
# (see test_ama_narrative_citations_name_the_authors), so the AMA document has none.
FORMS = [
    "Plain [@parker2019].",
    "Locator [@parker2019, p. 550].",
    "Pages [@parker2019, pp. 33-35].",
    "Chapter locator [@knuth1986a, chap. 3].",
    "Two [@parker2019; @rauer2015].",
    "Prefix [see @rauer2015].",
    "Prefix word [also @rauer2015, p. 2].",
    "Suffix [@rauer2015, and elsewhere].",
    "Year only [-@rauer2015].",
    "Same author [@knuth1986a; @knuth1986b].",
    "Editor only [@edited2007].",
    "Chapter [@chapter2010].",
    "Thesis [@thesis2012].",
    "Organisation [@report2020].",
    "No author [@web2021].",
    "Conference [@conf2018].",
    "Braced [@{parker2019}].",
]
NARRATIVE = [
    "@rauer2015 found this.",
    "@rauer2015 [p. 33] says so.",
    "@{knuth1986b} wrote it.",
]


def raw_pandoc(body: str, style: str) -> str:
    return pandoc_citeproc(body, style=style, items=LIBRARY.values())


def text(fragment) -> str:
    return " ".join(fragment.text_content().split())


def split(html: str):
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    refs = root.find(".//div[@id='refs']")
    entries = {}
    if refs is not None:
        refs.getparent().remove(refs)
        for entry in refs.iterfind("div"):
            body = entry.find("div[@class='csl-right-inline']")
            entries[entry.get("id")[4:]] = text(body if body is not None else entry)
    return text(root), entries


def project_entries(references_html: str) -> dict[str, str]:
    root = lxml.html.fragment_fromstring(references_html, create_parent="div")
    return {li.get("id")[4:]: text(li.find("span")) for li in root.iter("li")}


@pytest.mark.parametrize("style", STYLES)
def test_body_and_reference_list_read_as_pandoc_prints_them(style):
    forms = FORMS + (NARRATIVE if style == "apa" else [])
    body = "\n\n".join(forms)
    ours = render_article(body=body, references=LIBRARY, style=style)
    theirs_body, theirs_entries = split(raw_pandoc(body, style))
    assert " ".join(lxml.html.fragment_fromstring(ours.html, create_parent="div")
                    .text_content().split()) == theirs_body  # fmt: skip
    assert project_entries(ours.references_html) == theirs_entries
    assert not ours.unknown_keys


@pytest.mark.parametrize("style", STYLES)
def test_every_cited_entry_links_back_to_every_citation(style):
    body = "\n\n".join(FORMS)
    ours = render_article(body=body, references=LIBRARY, style=style)
    ids = set(re.findall(r'id="(cite-[^"]+)"', ours.html))
    backlinks = set(re.findall(r'href="#(cite-[^"]+)"', ours.references_html))
    assert backlinks == ids and ids
    for key in ours.cited_keys:
        assert f'href="#ref-{key}"' in ours.html or f'id="cite-{key}-1"' in ours.html


# --- Deviations, each with its rule (README: "Where the project differs from pandoc") ---


def test_ama_narrative_citations_name_the_authors():
    """AMA 11 §3.6: a narrative citation names the authors before the superscript number;
    pandoc prints the bare number ("² found this")."""
    html = render_article(body=NARRATIVE[0], references=LIBRARY, style="ama").html
    assert re.sub(r"<[^>]+>", "", html) == "Rauer and Volling1 found this."


def test_ama_superscripts_stay_inside_colons_and_semicolons():
    """AMA 11 §3.6.1: superscripts go outside periods and commas, inside colons and
    semicolons; pandoc moves them past all four."""
    html = render_article(
        body="First [@rauer2015]: then [@parker2019]; last [@rauer2015], end [@parker2019].",
        references=LIBRARY,
        style="ama",
    ).html
    assert re.sub(r"<[^>]+>", "", html) == "First1: then2; last,1 end.2"


@pytest.mark.parametrize("style", STYLES)
def test_and_others_prints_et_al(style):
    """BibTeX's "and others": the reference list ends the names with "et al." (APA 7 §9.8,
    AMA 11 §3.11.1); pandoc prints the literal name "others"."""
    library = {"cut": item("cut", author=[{"family": "Cut", "given": "A."}], **{"x-et-al": True})}
    rendered = render_article(body="X [@cut].", references=library, style=style)
    assert "et al." in rendered.references_html
    assert "Zzetal" not in rendered.references_html + rendered.html
    if style == "apa":
        assert "Cut et al., 2019" in rendered.html


@pytest.mark.parametrize("style", STYLES)
def test_pubmed_links_are_added(style):
    library = {"p": item("p", PMID="25866363")}
    rendered = render_article(body="X [@p].", references=library, style=style)
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/25866363/"' in rendered.references_html
