"""Citation and reference-list formatting, as a reader sees it, in APA 7 and AMA.

The HTML is parsed (lxml) rather than matched as strings wherever links and ids matter:
every in-text citation must lead to its entry and every entry back to each citation.
"""

from __future__ import annotations

import re

import lxml.html
import pytest

from references.citations import find_citations
from references.formatting import FormattedCitations, collapse_numbers, format_citations
from references.models import ReferenceType

STYLES = ("apa", "ama")


def journal(key: str, authors=("Parker", "Lee"), year: int | None = 2019, **extra) -> dict:
    item = {
        "id": key,
        "type": "article-journal",
        "title": extra.pop("title", f"A study called {key}"),
        "author": [{"family": family, "given": "S. J."} for family in authors],
        "container-title": "Journal of Sex Research",
        "volume": "56",
        "issue": "4",
        "page": "540-552",
    }
    if year:
        item["issued"] = {"date-parts": [[year]]}
    item.update(extra)
    return item


PARKER = journal("parker2019", ("Parker", "Lee"), 2019, title="Emotional intimacy")
RAUER = journal("rauer2015", ("Rauer", "Volling"), 2015, title="Closeness and conflict")
ADAMS = journal("adams2020", ("Adams",), 2020, title="Alone together")
LIBRARY = {item["id"]: item for item in (PARKER, RAUER, ADAMS)}


def fmt(body: str, references=None, style: str = "apa") -> FormattedCitations:
    return format_citations(
        clusters=find_citations(body),
        references=LIBRARY if references is None else references,
        style=style,
    )


def text(fragment: str) -> str:
    """What a reader sees: the fragment's text content, whitespace collapsed."""
    if not fragment.strip():
        return ""
    element = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return " ".join(element.text_content().split())


def cited(body: str, references=None, style: str = "apa") -> list[str]:
    return [text(cluster) for cluster in fmt(body, references, style).cluster_html]


def entries(formatted: FormattedCitations) -> list:
    root = lxml.html.fragment_fromstring(formatted.bibliography_html, create_parent="div")
    return root.xpath(".//li")


def entry_texts(formatted: FormattedCitations) -> list[str]:
    return [
        " ".join(li.xpath("string(.//span[@class='reference-entry'])").split())
        for li in entries(formatted)
    ]


def entry_for(formatted: FormattedCitations, key: str):
    (li,) = [li for li in entries(formatted) if li.get("id") == f"ref-{key}"]
    return li


# --- APA in-text forms --------------------------------------------------------------------


def test_apa_single_citation():
    assert cited("[@parker2019]") == ["(Parker & Lee, 2019)"]


def test_apa_page_locator():
    assert cited("[@parker2019, p. 550]") == ["(Parker & Lee, 2019, p. 550)"]


def test_apa_page_range_uses_en_dash():
    assert cited("[@parker2019, pp. 33-35]") == ["(Parker & Lee, 2019, pp. 33–35)"]


def test_apa_several_sources_are_ordered_alphabetically_inside_the_parentheses():
    assert cited("[@rauer2015; @parker2019]") == ["(Parker & Lee, 2019; Rauer & Volling, 2015)"]


def test_apa_suppress_author_shows_year_only():
    assert cited("Rauer and Volling [-@rauer2015] found") == ["(2015)"]


def test_apa_narrative_single_author():
    assert cited("As @adams2020 argued") == ["Adams (2020)"]


def test_apa_narrative_two_authors_spells_out_and():
    assert cited("As @rauer2015 showed") == ["Rauer and Volling (2015)"]


def test_apa_prefix_locator_and_suffix():
    assert cited("[see @rauer2015, pp. 33-35, emphasis added]") == [
        "(see Rauer & Volling, 2015, pp. 33–35, emphasis added)"
    ]


@pytest.mark.parametrize(
    ("written", "shown"),
    [("sec. 4", "Section 4"), ("fig. 2", "Figure 2"), ("para. 7", "para. 7")],
)
def test_apa_other_locator_labels(written, shown):
    assert cited(f"[@adams2020, {written}]") == [f"(Adams, 2020, {shown})"]


def test_apa_chapter_locator():
    assert cited("[@adams2020, chap. 3]") == ["(Adams, 2020, Chapter 3)"]


def test_apa_three_or_more_authors_is_et_al():
    many = journal("many", ("Ames", "Bell", "Cole"), 2018)
    assert cited("[@many]", {"many": many}) == ["(Ames et al., 2018)"]


# --- AMA in-text forms --------------------------------------------------------------------


def test_ama_single_citation_is_a_superscript_number():
    formatted = fmt("[@parker2019]", style="ama")
    (cluster,) = formatted.cluster_html
    root = lxml.html.fragment_fromstring(cluster, create_parent="div")
    (sup,) = root.xpath(".//sup")
    assert sup.text_content() == "1"


def test_ama_page_locator():
    assert cited("[@parker2019, p. 550]", style="ama") == ["1(p550)"]


def test_ama_numbers_follow_first_citation():
    body = "[@rauer2015] then [@parker2019] then [@rauer2015] then [@adams2020]"
    assert cited(body, style="ama") == ["1", "2", "1", "3"]


def test_ama_three_consecutive_numbers_collapse_with_en_dash():
    body = "[@parker2019; @rauer2015; @adams2020]"
    assert cited(body, style="ama") == ["1–3"]


def test_ama_collapse_ignores_written_order():
    body = "[@parker2019] [@rauer2015] [@adams2020] then [@adams2020; @parker2019; @rauer2015]"
    assert cited(body, style="ama")[-1] == "1–3"


def test_ama_two_consecutive_numbers_stay_listed():
    assert cited("[@parker2019; @rauer2015]", style="ama") == ["1,2"]


def test_ama_non_consecutive_numbers():
    body = "[@parker2019] [@rauer2015] [@adams2020] and [@parker2019; @adams2020]"
    assert cited(body, style="ama")[-1] == "1,3"


def test_ama_suppress_author_is_just_the_number():
    assert cited("[@parker2019] and [-@rauer2015]", style="ama") == ["1", "2"]


def test_ama_narrative_names_the_authors():
    assert cited("As @rauer2015 showed", style="ama") == ["Rauer and Volling1"]
    formatted = fmt("As @rauer2015 showed", style="ama")
    assert formatted.cluster_html[0].startswith("Rauer and Volling<sup")


def test_ama_prefix_is_kept():
    assert cited("[see @rauer2015, pp. 33-35]", style="ama") == ["see 1(p33-35)"]


def test_ama_suffix_is_kept():
    (shown,) = cited("[see @rauer2015, pp. 33-35, emphasis added]", style="ama")
    assert "emphasis added" in shown


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("chap. 3", "1(chap3)"),
        ("sec. 4", "1(sec4)"),
        ("fig. 2", "1(fig2)"),
        ("para. 7", "1(para7)"),
    ],
)
def test_ama_other_locator_labels(written, shown):
    assert cited(f"[@parker2019, {written}]", style="ama") == [shown]


@pytest.mark.parametrize(
    ("numbers", "runs"),
    [
        ([1, 2, 3], [(1, 3)]),
        ([1, 2], [(1, 1), (2, 2)]),
        ([1, 3], [(1, 1), (3, 3)]),
        ([3, 1, 2, 5, 6], [(1, 3), (5, 5), (6, 6)]),
        ([1, 2, 3, 4, 7, 8, 9], [(1, 4), (7, 9)]),
        ([2, 2, 3], [(2, 2), (3, 3)]),
        ([], []),
    ],
)
def test_collapse_numbers(numbers, runs):
    assert collapse_numbers(numbers) == runs


# --- APA year suffixes --------------------------------------------------------------------


SMITH_ZEBRA = journal("smithzebra", ("Smith", "Jones"), 2019, title="Zebra crossings and health")
SMITH_APPLE = journal("smithapple", ("Smith", "Jones"), 2019, title="Apples and blood pressure")
SMITHS = {item["id"]: item for item in (SMITH_ZEBRA, SMITH_APPLE)}


def test_apa_same_authors_same_year_get_suffixes_by_title_in_text():
    # Cited zebra first: the letters still follow the titles, not the citation order.
    assert cited("[@smithzebra] and later [@smithapple]", SMITHS) == [
        "(Smith & Jones, 2019b)",
        "(Smith & Jones, 2019a)",
    ]


def test_apa_year_suffixes_in_reference_list_ordered_by_title():
    formatted = fmt("[@smithzebra] and later [@smithapple]", SMITHS)
    first, second = entry_texts(formatted)
    assert first.startswith("Smith, S. J., & Jones, S. J. (2019a). Apples and blood pressure")
    assert second.startswith("Smith, S. J., & Jones, S. J. (2019b). Zebra crossings and health")
    assert [li.get("id") for li in entries(formatted)] == ["ref-smithapple", "ref-smithzebra"]


def test_apa_suffix_narrative_and_suppressed_forms():
    assert cited("@smithapple and [-@smithzebra]", SMITHS) == [
        "Smith and Jones (2019a)",
        "(2019b)",
    ]


def test_apa_suffixed_works_in_one_cluster_are_in_suffix_order():
    (shown,) = cited("[@smithzebra; @smithapple]", SMITHS)
    assert shown.index("2019a") < shown.index("2019b")


def test_apa_no_suffix_when_only_one_of_the_works_is_cited():
    assert cited("[@smithzebra]", SMITHS) == ["(Smith & Jones, 2019)"]


def test_apa_same_first_author_ordered_by_next_author_in_one_cluster():
    other = journal("other", ("Smith", "Brown"), 2019)
    assert cited("[@smithzebra; @other]", {**SMITHS, "other": other}) == [
        "(Smith & Brown, 2019; Smith & Jones, 2019)"
    ]


def test_ama_never_uses_year_suffixes():
    formatted = fmt("[@smithzebra] and [@smithapple]", SMITHS, style="ama")
    assert "2019a" not in formatted.bibliography_html
    assert "2019b" not in formatted.bibliography_html


# --- et al. -------------------------------------------------------------------------------

PARKER_ET_AL = journal("parkeretal", ("Parker",), 2019, title="Intimacy", **{"x-et-al": True})


def test_apa_et_al_in_text_even_with_one_listed_author():
    refs = {"parkeretal": PARKER_ET_AL}
    assert cited("[@parkeretal] and @parkeretal", refs) == [
        "(Parker et al., 2019)",
        "Parker et al. (2019)",
    ]


def test_apa_et_al_in_reference_list():
    (entry,) = entry_texts(fmt("[@parkeretal]", {"parkeretal": PARKER_ET_AL}))
    assert entry.startswith("Parker, S. J., et al. (2019). Intimacy.")
    assert "Zzetal" not in entry


def test_ama_et_al_in_reference_list_and_narrative():
    formatted = fmt("@parkeretal showed", {"parkeretal": PARKER_ET_AL}, style="ama")
    (entry,) = entry_texts(formatted)
    assert entry.startswith("Parker SJ, et al. Intimacy.")
    assert "Zzetal" not in entry
    assert text(formatted.cluster_html[0]) == "Parker et al1"


def test_et_al_with_two_listed_authors():
    item = journal("two", ("Parker", "Lee"), 2019, title="Two listed", **{"x-et-al": True})
    refs = {"two": item}
    assert cited("[@two]", refs) == ["(Parker et al., 2019)"]
    (apa,) = entry_texts(fmt("[@two]", refs))
    assert apa.startswith("Parker, S. J., Lee, S. J., et al. (2019)")
    (ama,) = entry_texts(fmt("[@two]", refs, style="ama"))
    assert ama.startswith("Parker SJ, Lee SJ, et al.")


# --- Reference-list order -----------------------------------------------------------------


def test_apa_reference_list_is_alphabetical():
    formatted = fmt("[@rauer2015] [@parker2019] [@adams2020]")
    assert [li.get("id") for li in entries(formatted)] == [
        "ref-adams2020",
        "ref-parker2019",
        "ref-rauer2015",
    ]
    assert formatted.cited_keys == ("adams2020", "parker2019", "rauer2015")
    assert formatted.bibliography_html.startswith("<ul")


def test_ama_reference_list_is_in_citation_order_and_numbered():
    formatted = fmt("[@rauer2015] [@parker2019] [@adams2020] [@rauer2015]", style="ama")
    assert [li.get("id") for li in entries(formatted)] == [
        "ref-rauer2015",
        "ref-parker2019",
        "ref-adams2020",
    ]
    assert [li.get("value") for li in entries(formatted)] == ["1", "2", "3"]
    assert formatted.cited_keys == ("rauer2015", "parker2019", "adams2020")
    assert formatted.bibliography_html.startswith("<ol")


def test_uncited_library_items_are_not_listed():
    formatted = fmt("[@parker2019]")
    assert [li.get("id") for li in entries(formatted)] == ["ref-parker2019"]


def test_no_citations_no_reference_list():
    formatted = fmt("No citations at all.")
    assert formatted.bibliography_html == ""
    assert formatted.cluster_html == ()


# --- Links between citations and entries --------------------------------------------------

LINKED_BODY = (
    "Intro [@parker2019]. Then [@rauer2015; @parker2019, p. 5]. As @adams2020 says, "
    "and [-@rauer2015]. All three [@adams2020; @parker2019; @rauer2015]. "
    "Again [see @parker2019, chap. 2, emphasis added] and [@parker2019; @adams2020]."
)


@pytest.mark.parametrize("style", STYLES)
def test_every_citation_links_to_its_entry_and_every_entry_links_back(style):
    formatted = fmt(LINKED_BODY, style=style)
    page = lxml.html.fragment_fromstring(
        "<p>" + " ".join(formatted.cluster_html) + "</p>" + formatted.bibliography_html,
        create_parent="div",
    )
    ids = [element.get("id") for element in page.xpath(".//*[@id]")]
    assert len(ids) == len(set(ids)), "duplicate ids"

    citation_links = page.xpath(".//a[@class='citation']")
    assert citation_links
    for link in citation_links:
        href = link.get("href")
        assert href.startswith("#ref-")
        assert href[1:] in ids, f"citation {link.get('id')} points at missing {href}"
        key = href[len("#ref-") :]
        assert re.fullmatch(rf"cite-{re.escape(key)}-\d+", link.get("id"))

    cite_ids = [i for i in ids if i.startswith("cite-")]
    for li in entries(formatted):
        key = li.get("id")[len("ref-") :]
        backlinks = [a.get("href") for a in li.xpath(".//a[@class='backlink']")]
        own_cites = [f"#{i}" for i in cite_ids if re.fullmatch(rf"cite-{re.escape(key)}-\d+", i)]
        assert sorted(backlinks) == sorted(own_cites), key
        for href in backlinks:
            assert href[1:] in ids

    # Each key is cited this many times in LINKED_BODY; each gets that many backlinks.
    counts = {"parker2019": 5, "rauer2015": 3, "adams2020": 3}
    for key, count in counts.items():
        assert len(entry_for(formatted, key).xpath(".//a[@class='backlink']")) == count


def test_ama_collapsed_range_keeps_an_anchor_for_the_hidden_middle_number():
    formatted = fmt("[@parker2019; @rauer2015; @adams2020]", style="ama")
    page = lxml.html.fragment_fromstring(
        formatted.cluster_html[0] + formatted.bibliography_html, create_parent="div"
    )
    ids = set(page.xpath(".//@id"))
    (middle_backlink,) = entry_for(formatted, "rauer2015").xpath(".//a[@class='backlink']")
    assert middle_backlink.get("href") == "#cite-rauer2015-1"
    assert "cite-rauer2015-1" in ids


@pytest.mark.parametrize("style", STYLES)
def test_keys_with_punctuation_link_correctly(style):
    refs = {
        "kant:kpv": journal("kant:kpv", ("Kant",), 1788),
        "baez/article": journal("baez/article", ("Baez",), 2004),
    }
    formatted = fmt("[@kant:kpv] and [@baez/article]", refs, style=style)
    page = lxml.html.fragment_fromstring(
        "".join(formatted.cluster_html) + formatted.bibliography_html, create_parent="div"
    )
    ids = set(page.xpath(".//@id"))
    assert {"ref-kant:kpv", "ref-baez/article", "cite-kant:kpv-1", "cite-baez/article-1"} <= ids
    hrefs = {a.get("href") for a in page.xpath(".//a[@class='citation']")}
    assert hrefs == {"#ref-kant:kpv", "#ref-baez/article"}


# --- Identifiers: DOI, PubMed, URL --------------------------------------------------------


def links_in(li) -> dict[str, str]:
    return {
        a.get("href"): a.text_content() for a in li.xpath(".//span[@class='reference-entry']//a")
    }


@pytest.mark.parametrize("style", STYLES)
def test_doi_is_a_doi_org_link(style):
    item = journal("doi", DOI="10.1080/00224499.2019.1610151")
    li = entry_for(fmt("[@doi]", {"doi": item}, style), "doi")
    links = links_in(li)
    href = "https://doi.org/10.1080/00224499.2019.1610151"
    assert href in links
    assert "10.1080/00224499.2019.1610151" in links[href]


@pytest.mark.parametrize("style", STYLES)
def test_pmid_gives_a_pubmed_link(style):
    item = journal("pm", PMID="31154851")
    li = entry_for(fmt("[@pm]", {"pm": item}, style), "pm")
    links = links_in(li)
    assert links.get("https://pubmed.ncbi.nlm.nih.gov/31154851/") == "PubMed 31154851"


@pytest.mark.parametrize("style", STYLES)
def test_url_is_a_link(style):
    item = {
        "id": "who",
        "type": "webpage",
        "title": "Sexual health",
        "author": [{"literal": "World Health Organization"}],
        "issued": {"date-parts": [[2023]]},
        "URL": "https://www.who.int/health-topics/sexual-health?tab=1&x=2",
    }
    li = entry_for(fmt("[@who]", {"who": item}, style), "who")
    links = links_in(li)
    assert links.get("https://www.who.int/health-topics/sexual-health?tab=1&x=2") == (
        "https://www.who.int/health-topics/sexual-health?tab=1&x=2"
    )


@pytest.mark.parametrize("style", STYLES)
def test_doi_pmid_and_url_together(style):
    item = journal(
        "all", DOI="10.1000/xyz123", PMID="12345678", URL="https://journal.example/article/1"
    )
    li = entry_for(fmt("[@all]", {"all": item}, style), "all")
    hrefs = set(links_in(li))
    assert "https://doi.org/10.1000/xyz123" in hrefs
    assert "https://pubmed.ncbi.nlm.nih.gov/12345678/" in hrefs


@pytest.mark.parametrize("style", STYLES)
def test_no_identifiers_no_links(style):
    li = entry_for(fmt("[@parker2019]", style=style), "parker2019")
    assert links_in(li) == {}


# --- Hostile data in a reference ----------------------------------------------------------

HOSTILE = {
    "id": "evil",
    "type": "article-journal",
    "title": "<img src=x onerror=alert(1)> and <script>alert(2)</script> study",
    "author": [{"family": "<script>alert(3)</script>", "given": "Eve"}],
    "container-title": '<b onmouseover="alert(4)">Journal</b>',
    "issued": {"date-parts": [[2020]]},
    "URL": "javascript:alert(5)",
    "DOI": '10.1000/"><script>alert(6)</script>',
}


@pytest.mark.parametrize("style", STYLES)
def test_markup_in_reference_data_is_shown_as_text(style):
    formatted = fmt("[@evil] and @evil", {"evil": HOSTILE}, style)
    page = lxml.html.fragment_fromstring(
        "<p>" + " ".join(formatted.cluster_html) + "</p>" + formatted.bibliography_html,
        create_parent="div",
    )
    assert page.xpath(".//script | .//img | .//b") == []
    for element in page.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert not value.strip().lower().startswith("javascript:"), (element.tag, value)
    shown = " ".join(page.text_content().split())
    assert "<img src=x onerror=alert(1)> and <script>alert(2)</script> study" in shown
    assert "<script>alert(3)</script>" in shown


@pytest.mark.parametrize("style", STYLES)
def test_javascript_url_field_produces_no_link(style):
    item = journal("jsurl", URL="javascript:alert(1)")
    li = entry_for(fmt("[@jsurl]", {"jsurl": item}, style), "jsurl")
    assert links_in(li) == {}
    for href in li.xpath(".//a/@href"):
        assert not href.lower().startswith("javascript:")


def test_quote_in_doi_cannot_break_out_of_the_link():
    item = journal("q", DOI='10.1000/"onmouseover="alert(1)')
    formatted = fmt("[@q]", {"q": item})
    li = entry_for(formatted, "q")
    for a in li.xpath(".//a"):
        assert not any(name.startswith("on") for name in a.attrib)
        assert a.get("href").startswith(("https://doi.org/", "#cite-"))


# --- Every reference type ------------------------------------------------------------------

TYPE_FIELDS = {
    "article-journal": {"container_title": "Journal of Sex Research", "volume": "56"},
    "article-magazine": {"container_title": "Psychology Today", "issued_month": 5},
    "article-newspaper": {"container_title": "The New York Times", "issued_month": 3},
    "book": {"publisher": "Guilford Press", "edition": "2"},
    "chapter": {"container_title": "Handbook of Couples Therapy", "publisher": "Wiley"},
    "paper-conference": {"container_title": "Proceedings of the APA Convention"},
    "entry-encyclopedia": {"container_title": "Encyclopedia of Psychology"},
    "report": {"publisher": "National Institutes of Health", "number": "NIH-19-7"},
    "thesis": {"publisher": "Stanford University", "genre": "Doctoral dissertation"},
    "patent": {"number": "US1234567"},
    "webpage": {"container_title": "Mayo Clinic", "url": "https://www.mayoclinic.org/x"},
    "dataset": {"publisher": "ICPSR", "doi": "10.3886/ICPSR37166.v1"},
    "software": {"publisher": "GitHub", "url": "https://github.com/example/tool"},
    "manuscript": {"genre": "Unpublished manuscript"},
    "document": {"publisher": "Clinic leaflets"},
}


def test_type_fixture_covers_every_reference_type():
    assert set(TYPE_FIELDS) == set(ReferenceType.values)


@pytest.mark.django_db
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("ref_type", ReferenceType.values)
def test_every_reference_type_formats_with_its_title(make_reference, ref_type, style):
    fields = {
        "container_title": "",
        "volume": "",
        "issue": "",
        "pages": "",
        "doi": "",
        "pmid": "",
        **TYPE_FIELDS[ref_type],
    }
    title = f"Intimacy and the {ref_type.replace('-', ' ')} form"
    reference = make_reference(
        f"t-{ref_type}",
        type=ref_type,
        title=title,
        authors=[{"family": "Okafor", "given": "Ngozi"}],
        issued_year=2021,
        **fields,
    )
    csl = reference.to_csl()
    formatted = fmt(f"[@{reference.key}]", {reference.key: csl}, style)
    (entry,) = entry_texts(formatted)
    assert entry
    assert title.lower() in entry.lower()
    assert "Okafor" in entry
    (in_text,) = [text(c) for c in formatted.cluster_html]
    assert in_text == ("(Okafor, 2021)" if style == "apa" else "1")


# --- Unknown keys -------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_unknown_key_is_reported_with_its_line_and_shown_as_an_error(style):
    body = "First line [@parker2019].\n\nThird line [@nosuch2020]."
    formatted = fmt(body, style=style)
    assert formatted.unknown == (("nosuch2020", 3),)
    error = formatted.cluster_html[1]
    root = lxml.html.fragment_fromstring(error, create_parent="div")
    (mark,) = root.xpath(".//mark[@class='citation-error']")
    assert "nosuch2020" in mark.text_content()
    assert "line 3" in mark.text_content()
    assert formatted.cited_keys == ("parker2019",)
    assert [li.get("id") for li in entries(formatted)] == ["ref-parker2019"]


@pytest.mark.parametrize("style", STYLES)
def test_unknown_key_beside_a_known_one_in_one_cluster(style):
    formatted = fmt("Text [@parker2019; @missing].", style=style)
    assert formatted.unknown == (("missing", 1),)
    root = lxml.html.fragment_fromstring(formatted.cluster_html[0], create_parent="div")
    assert root.xpath(".//a[@class='citation']/@href") == ["#ref-parker2019"]
    assert "missing" in root.xpath("string(.//mark)")


def test_unknown_key_reported_once_per_line_but_for_every_line():
    formatted = fmt("[@missing] [@missing]\n[@missing]")
    assert formatted.unknown == (("missing", 1), ("missing", 2))


def test_apa_no_suffix_for_same_year_different_authors():
    other = journal("other", ("Brown", "Smith"), 2019)
    assert cited("[@smithzebra; @other]", {**SMITHS, "other": other}) == [
        "(Brown & Smith, 2019; Smith & Jones, 2019)"
    ]


@pytest.mark.parametrize("style", STYLES)
def test_unknown_key_with_markup_is_escaped(style):
    formatted = fmt("[@a<script>b]", {}, style=style)
    assert formatted.unknown == (("a<script>b", 1),)
    assert "<script>" not in formatted.cluster_html[0]
    assert "a&lt;script&gt;b" in formatted.cluster_html[0]


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="style"):
        fmt("[@parker2019]", style="chicago")
