"""A held-out audit of citation rendering: documents written apart from the parity test's.

Every citation form Pandoc Markdown reads, in every place a citation can stand (headings,
lists, tables, quotes, link text, emphasis, divs, spans, raw HTML, footnotes), over a
library of its own (same-author works, year suffixes, no-author and editor-only works, a
key with punctuation), goes through the project and through the pinned pandoc
`--citeproc` with the same CSL and CSL-JSON. The text must be identical except for the
README's deviations, which are kept out of the compared document and tested here one by
one; so are the guarantees the project keeps over pandoc (back-links, unique ids, safe
links, prefixed headings, table of contents, word count).
"""

from __future__ import annotations

import re
from collections import Counter

import lxml.html
import pytest

from articles.rendering import for_citeproc, render_article
from tests.articles.pandoc_citeproc import pandoc_citeproc

STYLES = ("apa", "ama")


def item(key: str, kind: str = "article-journal", **fields) -> dict:
    base = {
        "id": key,
        "type": kind,
        "title": f"Outcomes of {key} in adults",
        "author": [{"family": key.rstrip("0123456789ab:").title(), "given": "C. D."}],
        "issued": {"date-parts": [[2020]]},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


LIBRARY = {
    "alpha2020": item("alpha2020", **{"container-title": "Sleep Medicine", "volume": "12",
                      "issue": "3"}, page="101-110", DOI="10.1000/xyz.123"),
    "beta2018": item("beta2018", author=[{"family": "Beta", "given": "E."},
                     {"family": "Gamma", "given": "F."}, {"family": "Delta", "given": "G."}],
                     issued={"date-parts": [[2018]]}, **{"container-title": "Lancet"},
                     page="5-9"),
    "smith2019a": item("smith2019a", "book", author=[{"family": "Smith", "given": "J."}],
                       issued={"date-parts": [[2019]]}, publisher="Norton"),
    "smith2019b": item("smith2019b", "book", author=[{"family": "Smith", "given": "J."}],
                       issued={"date-parts": [[2019]]}, title="Another book",
                       publisher="Norton"),
    "anon2017": item("anon2017", "webpage", author=None, issued={"date-parts": [[2017]]},
                     URL="https://example.org/facts", title="Sleep facts"),
    "anon2017b": item("anon2017b", "webpage", author=None, issued={"date-parts": [[2017]]},
                      URL="https://example.org/more", title="Other facts"),
    "eds2016": item("eds2016", "book", author=None, editor=[{"family": "Editor",
                    "given": "H."}], issued={"date-parts": [[2016]]}, publisher="Guilford"),
    "doe:2020": item("doe:2020", author=[{"family": "Doe", "given": "J."}]),
    "zeta": item("zeta", author=[{"family": "Zeta", "given": "Z."}],
                 issued={"date-parts": [[2021]]}),
}  # fmt: skip

# Forms and places compared with pandoc in both styles. Colons and semicolons after a
# citation, narrative citations, adjacent citations and unknown keys print differently in
# AMA on purpose: they are tested below, and the compared document avoids them there.
FORMS = [
    "# Sleep and the heart [@alpha2020]",
    "Plain [@alpha2020]. Two [@alpha2020; @beta2018], and more.",
    "Prefix and locators [see @alpha2020, pp. 33-35; also @beta2018, chap. 1].",
    "Bare number [@alpha2020, 33] and a note [@alpha2020, p. 33, emphasis added].",
    "Labels: chapter [@alpha2020, chap. 2], figure [@alpha2020, fig. 3], section "
    "[@alpha2020, sec. 4], paragraph [@alpha2020, para. 5], line [@alpha2020, l. 6], note "
    "[@alpha2020, n. 7], volume [@alpha2020, vol. 8].",
    "Braces [@alpha2020{ii, A, D-Z}] and [@beta2018, {ii, A, D-Z}].",
    "Markup [*compare* @alpha2020 *with care*] and [see [the site](https://example.org) "
    "@beta2018, `code` here].",
    "Year only [-@smith2019a] and [-@eds2016].",
    "Sentence ends [@zeta]. Then,[@alpha2020] and?[@beta2018] and![@zeta] end.",
    "Quotes “quoted” [@alpha2020]. “Inside [@beta2018].” (Parenthesis [@zeta]) done.",
    "A footnote.^[See [@alpha2020] there.] And a named one.[^one]",
    "[^one]: It cites [@beta2018, p. 3].",
    "- listed [@smith2019a]\n- listed [@smith2019b]\n\n1. numbered [@anon2017]",
    "| cell | cell |\n|---|---|\n| in a table [@anon2017b] | [@eds2016] |",
    "> quoted block [@alpha2020].\n>\n> more [@zeta]",
    "See [the linked text [@alpha2020]](https://example.org) and *emphasis [@beta2018]* "
    "and **strong [@zeta]**.",
    "::: aside\nIn a div [@alpha2020].\n:::",
    "[In a span [@beta2018]]{.lead} ends.",
    "<div>\nIn raw HTML [@alpha2020] here.\n</div>",
    "Same author [@smith2019a; @smith2019b], same year [@anon2017; @anon2017b].",
    "Editor only [@eds2016] and punctuation in a key [@doe:2020].",
    " ".join(f"Sentence {n} [@zeta]." for n in range(15)),
]
REPEATED = sum(form.count("@zeta") for form in FORMS)  # one item cited 20 times
# APA prints these as pandoc does; AMA names the authors (a deviation, tested below).
NARRATIVE = [
    "@alpha2020 says so, and @beta2018 [p. 33] agrees.",
    "Written by @doe:2020. Then [@alpha2020][@beta2018].",
]


def raw_pandoc(body: str, style: str) -> str:
    return pandoc_citeproc(
        body, style=style, items=[for_citeproc(entry) for entry in LIBRARY.values()]
    )


def words(fragment) -> str:
    return " ".join(fragment.text_content().split())


def parse(html: str):
    return lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")


def pandoc_text(body: str, style: str) -> tuple[str, dict[str, str]]:
    root = parse(raw_pandoc(body, style))
    refs = root.find(".//div[@id='refs']")
    entries = {}
    if refs is not None:
        refs.getparent().remove(refs)
        for entry in refs.iterfind("div"):
            inline = entry.find("div[@class='csl-right-inline']")
            entries[entry.get("id")[4:]] = words(inline if inline is not None else entry)
    return words(root), entries


def project_text(body: str, style: str) -> tuple[str, dict[str, str]]:
    rendered = render_article(body=body, references=LIBRARY, style=style)
    entries = {
        li.get("id")[4:]: words(li.find("span"))
        for li in parse(rendered.references_html).iter("li")
    }
    return words(parse(rendered.html)), entries


def document(style: str) -> str:
    # No YAML block: the project ignores a writer's metadata (it would tell citeproc what
    # to print; tests/articles/test_hostile_markdown.py), pandoc obeys it.
    return "\n\n".join(FORMS + (NARRATIVE if style == "apa" else []))


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize("style", STYLES)
def test_held_out_document_reads_as_pandoc_prints_it(style):
    body = document(style)
    assert project_text(body, style) == pandoc_text(body, style)


@pytest.mark.parametrize("style", STYLES)
def test_every_entry_links_back_to_each_of_its_citations_with_unique_ids(style):
    rendered = render_article(body=document(style), references=LIBRARY, style=style)
    page = rendered.html + rendered.references_html
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert targets <= set(ids), targets - set(ids)
    citations = {i for i in ids if i.startswith("cite-")}
    backlinks = set(re.findall(r'href="#(cite-[^"]+)"', rendered.references_html))
    assert backlinks == citations
    assert REPEATED == 20
    assert f"cite-zeta-{REPEATED}" in citations and f"cite-zeta-{REPEATED + 1}" not in citations
    assert set(rendered.cited_keys) == set(LIBRARY) and not rendered.unknown_keys


@pytest.mark.parametrize("style", STYLES)
def test_ids_the_writer_types_cannot_take_the_renderers(style):
    body = (
        "# Intro {#ref-alpha2020}\n\n"
        'Text [@alpha2020] <span id="ref-beta2018">raw</span> [x]{#cite-alpha2020-1} '
        '<a id="cite-alpha2020-2" name="cite-alpha2020-2">y</a> [@beta2018].\n\n'
        '::: {#refs}\n:::\n\n<div id="footnotes">z</div>'
    )
    rendered = render_article(body=body, references=LIBRARY, style=style)
    ids = re.findall(r'\b(?:id|name)="([^"]+)"', rendered.html + rendered.references_html)
    assert sorted(ids) == sorted(
        ["section-ref-alpha2020", "cite-alpha2020-1", "cite-beta2018-1"]
        + ["ref-alpha2020", "ref-beta2018"]
    )
    assert rendered.toc == [{"id": "section-ref-alpha2020", "name": "Intro", "level": 2}]


@pytest.mark.parametrize("style", STYLES)
def test_no_internal_mark_reaches_the_page(style):
    rendered = render_article(body=document(style), references=LIBRARY, style=style)
    page = rendered.html + rendered.references_html
    for mark in ("x-narrative", "data-cites", "doc-biblioref", "csl-", "zcite", "Zzetal"):
        assert mark not in page


@pytest.mark.parametrize("style", STYLES)
def test_reference_links_only_with_safe_schemes(style):
    library = {
        "js": item("js", "webpage", URL="javascript:alert(1)"),
        "tab": item("tab", "webpage", URL="java\tscript:alert(1)"),
        "data": item("data", "webpage", URL="data:text/html,<script>alert(1)</script>"),
        "doi": item("doi", DOI='10.1/"><script>alert(1)</script>'),
        "pm": item("pm", PMID="²³"),  # digits to str.isdigit(), no PubMed number
        "ok": item("ok", PMID="31234567", URL="https://example.org/ok"),
    }
    body = " ".join(f"[@{key}]" for key in library)
    rendered = render_article(body=body, references=library, style=style)
    hrefs = re.findall(r'href="([^"]*)"', rendered.references_html)
    assert all(h.startswith(("#cite-", "https://")) for h in hrefs), hrefs
    assert "<script" not in rendered.references_html
    assert re.findall(r'class="pubmed" href="([^"]+)"', rendered.references_html) == [
        "https://pubmed.ncbi.nlm.nih.gov/31234567/"
    ]


@pytest.mark.parametrize("style", STYLES)
def test_word_count_leaves_out_the_reference_list(style):
    citable = [key for key in LIBRARY if re.fullmatch(r"[\w:]+", key)]
    body = "One two [" + "; ".join(f"@{key}" for key in citable) + "]."
    rendered = render_article(body=body, references=LIBRARY, style=style)
    assert sorted(rendered.cited_keys) == sorted(citable)
    text_words = len(re.findall(r"\w+", plain(rendered.html)))
    listed_words = len(re.findall(r"\w+", plain(rendered.references_html)))
    assert rendered.word_count == text_words
    assert listed_words > 3 * text_words  # the list is what a count could wrongly take in


# --- The AMA deviations, on held-out inputs ------------------------------------------------


def ama_text(body: str) -> str:
    return plain(render_article(body=body, references=LIBRARY, style="ama").html)


def test_ama_narrative_names_come_before_the_punctuation_the_number_follows():
    """AMA 11 §3.6.1: the number goes outside periods and commas, the names before both
    ("Written by Alph.¹"); pandoc prints "Written by.¹", and the names used to land after
    the period ("Alph¹.")."""
    assert ama_text("Written by @alpha2020.") == "Written by Alph.1"
    assert ama_text("Cited by @beta2018, then more.") == "Cited by Beta et al,1 then more."
    assert ama_text("Cited by @alpha2020 [p. 3]!") == "Cited by Alph!1(p3)"
    assert ama_text("Cited by @alpha2020: then") == "Cited by Alph1: then"
    assert ama_text("A note.^[Cited by @beta2018 [p. 3].]").startswith(
        "A note.1\n\n\n\nCited by Beta et al.1(p3)"
    )


def test_ama_colons_and_semicolons_stay_outside_with_no_space_before_the_citation():
    """AMA 11 §3.6.1: inside colons and semicolons, also when citeproc moved the mark into
    the citation because nothing separated them (`word[@a]:`)."""
    assert ama_text("Then[@alpha2020]: and[@beta2018]; end") == "Then1: and2; end"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("One [@alpha2020], [@beta2018] two.", "One,1,2 two."),
        ("One [@alpha2020]; [@beta2018] two.", "One1,2; two."),
        ("One [@alpha2020].[@beta2018] two.", "One.1,2 two."),
        ("One. [@alpha2020]. [@beta2018]. [@zeta]", "One..1.2,3"),
    ],
)
def test_ama_adjacent_citations_do_not_read_as_one_number(body, expected):
    """AMA 11 §3.6.1: numbers cited at one place are separated by commas. pandoc prints two
    citations with nothing between them as ¹² (reference 12)."""
    assert ama_text(body) == expected


@pytest.mark.parametrize("style", STYLES)
def test_unknown_and_braced_keys_are_reported_with_their_lines(style):
    body = "First [@alpha2020].\n\nSecond [@{nosuch:2020}] and [see @missing, p. 2]."
    rendered = render_article(body=body, references=LIBRARY, style=style)
    assert rendered.unknown_keys == (("nosuch:2020", 3), ("missing", 3))
    assert "nosuch:2020" in plain(rendered.html) and "missing" in plain(rendered.html)
