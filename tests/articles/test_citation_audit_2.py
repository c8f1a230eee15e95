"""A second held-out audit of citation rendering, on documents and libraries written apart
from test_pandoc_parity.py's and test_citation_audit.py's.

The compared documents put citations where the first two audits do not (pipe and grid
tables with captions, image captions, definition lists, line blocks, nested lists and
quotes, footnotes cited twice or holding several citations, a first citation inside a
footnote or a table) and use what they leave out: repeated keys in one cluster, every
locator label, roman and bare locators, emphasis and links in prefixes, keys followed by
punctuation, e-mail addresses and escaped `@`, 3/6/20/21 authors, three works of one
author and year, authors sharing a surname, corporate and undated works. The project's
text must equal pandoc's except for the README's deviations, which the AMA document
avoids (they are tested in the first two audits). Then the defects this audit found,
each tested on its own.
"""

from __future__ import annotations

import re
from html import escape

import lxml.html
import pytest

from articles.rendering import for_citeproc, render_article
from tests.articles.pandoc_citeproc import pandoc_citeproc
from tests.builders import fastest_cpu_seconds

STYLES = ("apa", "ama")


def item(key: str, kind: str = "article-journal", **fields) -> dict:
    base = {
        "id": key,
        "type": kind,
        "title": f"Effects of {key} on sleep",
        "author": [{"family": key.rstrip("0123456789").title(), "given": "M. N."}],
        "issued": {"date-parts": [[2020]]},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def people(count: int, stem: str) -> list[dict]:
    return [{"family": f"{stem}{chr(65 + n % 26)}{n}", "given": "Q."} for n in range(count)]


LIBRARY = {
    "adams": item("adams", author=[{"family": "Adams", "given": "P."}],
                  **{"container-title": "Sleep", "volume": "3", "issue": "2"}, page="10-20"),
    "brown": item("brown", author=[{"family": "Brown", "given": "L."},
                  {"family": "Black", "given": "K."}], issued={"date-parts": [[2018]]}),
    "cole": item("cole", "book", author=[{"family": "Cole", "given": "R."}], publisher="Wiley"),
    "lee1": item("lee1", author=[{"family": "Lee", "given": "J."}], title="First"),
    "lee2": item("lee2", author=[{"family": "Lee", "given": "J."}], title="Second"),
    "lee3": item("lee3", author=[{"family": "Lee", "given": "J."}], title="Third"),
    "leek": item("leek", author=[{"family": "Lee", "given": "K."}], title="Other Lee"),
    "three": item("three", author=people(3, "Tri")),
    "six": item("six", author=people(6, "Six")),
    "twenty": item("twenty", author=people(20, "Tw")),
    "twentyone": item("twentyone", author=people(21, "To")),
    "corp": item("corp", "report", publisher="CDC",
                 author=[{"literal": "Centers for Disease Control and Prevention"}]),
    "nodate": item("nodate", "webpage", issued=None, URL="https://example.org/x",
                   author=[{"family": "Nod", "given": "A."}]),
    "chap": item("chap", "chapter", author=[{"family": "Chap", "given": "C."}],
                 editor=[{"family": "Ed", "given": "E."}], **{"container-title": "Handbook"},
                 page="3-9", publisher="Guilford"),
    "thesis": item("thesis", "thesis", genre="Doctoral dissertation", publisher="MIT"),
    "web": item("web", "webpage", author=None, URL="https://example.org/w",
                **{"container-title": "Site"}),
}  # fmt: skip

# Places and forms compared in both styles. The first citations stand in a footnote and a
# table, so AMA numbers them first there.
FORMS = [
    "Intro.^[First cited in a note [@cole], then [@adams; @brown, p. 4].]",
    "| head [@lee1] | k |\n|---|---|\n| cell [@lee2] | [@lee3, p. 2] |\n\n: Caption [@leek]",
    "+--------------+-----+\n| grid [@three] | B   |\n+==============+=====+\n"
    "| c [@six]     | d   |\n+--------------+-----+",
    "## A heading [@twenty]",
    "![A figure [@twentyone]](/media/figure.png)",
    "Term [@corp]\n:   Definition [@nodate].",
    "| A line [@chap]\n| another line [@thesis].",
    "- outer [@web]\n    - nested [@adams]\n        - deeper [@brown]",
    "> quoted [@cole]\n>\n> > nested quote [@lee1]",
    "Twice.[^twice] Again.[^twice]\n\n[^twice]: A note cited twice [@lee2; @lee3].",
    "Repeated [@adams; @adams] and [@adams, p. 3; @adams, p. 5].",
    "Labels [@adams, chap. 2] and [@adams, sec. 4] and [@adams, para. 5] and "
    "[@adams, fig. 2] and [@adams, pp. 3-5] and [@adams, {pp. iv, vi--xi}] and "
    "[@adams, p. 33f] and [@adams, p. xii] and [@adams, 33] and [@adams, and elsewhere].",
    "Markup [*see* @brown] and [**cf.** @cole] and [see [a site](https://example.org) @lee1] "
    "and [@adams, p. 3, see also @brown].",
    "Years only [-@adams] and [-@brown; -@cole].",
    "Mail x@y.org and an escaped \\@adams are no citations.",
    "Same author and year [@lee1; @lee2; @lee3; @leek], [@three; @six; @twenty; @twentyone].",
    "Corporate [@corp] twice [@corp], undated [@nodate], no author [@web].",
    "Then a note follows [@adams]^[a note] and a space\u00a0[@brown].",
    "“Quoted [@cole]” and ‘single [@lee1]’ and *em [@lee2]*, **strong [@lee3]**, "
    "~~struck [@leek]~~ and <span>raw [@three]</span> and <b>bold [@six]</b>.",
]
# APA prints narrative citations as pandoc does; AMA names the authors (a deviation).
NARRATIVE = [
    "@lee1 and @leek agree, as @corp reported and @nodate says.",
    "Possessive @cole's book, @three [p. 4] and [link @adams](https://example.org).",
]


def words(fragment) -> str:
    return " ".join(fragment.text_content().split())


def parse(html: str):
    return lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")


def pandoc_reading(body: str, style: str, library: dict[str, dict]):
    """pandoc's text, reference entries (in order, with AMA's numbers) and image alt text."""
    items = [for_citeproc(entry) for entry in library.values()]
    root = parse(pandoc_citeproc(body, style=style, items=items))
    refs = root.find(".//div[@id='refs']")
    entries = []
    if refs is not None:
        refs.getparent().remove(refs)
        for entry in refs.iterfind("div"):
            margin = entry.find("div[@class='csl-left-margin']")
            inline = entry.find("div[@class='csl-right-inline']")
            number = words(margin).rstrip(".") if margin is not None else ""
            content = words(inline if inline is not None else entry)
            entries.append((entry.get("id")[4:], number, content))
    alts = [image.get("alt") for image in root.iter("img")]
    return words(root), entries, alts


def project_reading(body: str, style: str, library: dict[str, dict]):
    rendered = render_article(body=body, references=library, style=style)
    root = parse(rendered.html)
    entries = [
        (li.get("id")[4:], li.get("value") or "", words(li.find("span")))
        for li in parse(rendered.references_html).iter("li")
    ]
    alts = [image.get("alt") for image in root.iter("img")]
    return words(root), entries, alts


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize("style", STYLES)
def test_second_held_out_document_reads_as_pandoc_prints_it(style):
    body = "\n\n".join(FORMS + (NARRATIVE if style == "apa" else []))
    assert project_reading(body, style, LIBRARY) == pandoc_reading(body, style, LIBRARY)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("form", FORMS)
def test_each_form_alone_reads_as_pandoc_prints_it(style, form):
    """Alone, each form is the first and only citation: AMA numbers start there."""
    assert project_reading(form, style, LIBRARY) == pandoc_reading(form, style, LIBRARY)


# --- Defects this audit found ------------------------------------------------------------

# BibTeX's "and others" (`x-et-al`) beside a work whose first author and year are the same:
# APA 7 tells them apart by naming more authors, and citeproc named the placeholders.
AND_OTHERS = {
    "cut": item("cut", author=[{"family": "Cut", "given": "A."}], **{"x-et-al": True}),
    "cutlee": item("cutlee", author=[{"family": "Cut", "given": "A."},
                   {"family": "Lee", "given": "B."}], **{"x-et-al": True}),
    "cutleepark": item("cutleepark", author=[{"family": "Cut", "given": "A."},
                       {"family": "Lee", "given": "B."}, {"family": "Park", "given": "C."}]),
    "cutleekim": item("cutleekim", author=[{"family": "Cut", "given": "A."},
                      {"family": "Lee", "given": "B."}, {"family": "Kim", "given": "D."}]),
}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[@cut; @cutleepark]", "(Cut et al., 2020; Cut, Lee, et al., 2020)"),
        ("@cut and @cutleepark", "Cut et al. (2020) and Cut, Lee, et al. (2020)"),
        ("[see @cut, p. 3; @cutleepark]", "(see Cut et al., 2020, p. 3; Cut, Lee, et al., 2020)"),
        ("[@cutlee; @cutleekim]", "(Cut, Lee, et al., 2020; Cut, Lee, & Kim, 2020)"),
    ],
)
def test_and_others_never_prints_its_placeholder_in_the_text(body, expected):
    """APA 7 §8.18: works that shorten to the same "Cut et al." name as many authors as
    tell them apart; an "and others" work has no more to name, so it stays "Cut et al."
    (the deviation "BibTeX `and others` ends the names with "et al."", in the text too).
    citeproc named the placeholder authors: "Cut, Zzetalmarkzz, et al., 2020"."""
    rendered = render_article(body=body, references=AND_OTHERS, style="apa")
    assert "Zzetal" not in rendered.html + rendered.references_html
    assert words(parse(rendered.html)) == expected


def test_placeholders_in_a_long_citation_are_replaced_in_linear_time():
    # One citation of many "and others" works is one text: each placeholder looked back
    # through all of it for where its work starts, quadratic in the citation's length.
    from articles.rendering import ET_AL_MARK, _et_al_in_names

    def seconds(count: int) -> float:
        work = f"Cut, Lee, {ET_AL_MARK}, {ET_AL_MARK}, et al., 2020"
        text = "(" + "; ".join([work] * count) + ")"
        replaced = "(" + "; ".join(["Cut, Lee, et al., 2020"] * count) + ")"
        assert _et_al_in_names(text) == replaced
        return fastest_cpu_seconds(lambda: _et_al_in_names(text), runs=3)

    small = seconds(1_000)
    large = seconds(4_000)
    assert large < 4 * 3 * max(small, 0.002), (small, large)  # 4 times the text: linear


@pytest.mark.parametrize(
    "before",
    [
        "Write to admin@nosuch for help.",
        "An escaped \\@nosuch is text.",
        "A braced x@{nosuch} is text too.",
    ],
)
def test_an_unknown_key_is_reported_on_the_line_that_cites_it(before):
    """`x@key` and `\\@key` are not citations (pandoc prints them as text), so the line an
    unknown key is reported on is the line that cites it, not an earlier mention."""
    body = f"{before}\n\nThen [@nosuch]."
    rendered = render_article(body=body, references=LIBRARY, style="apa")
    assert rendered.unknown_keys == (("nosuch", 3),)


def test_the_lines_of_many_unknown_keys_are_found_in_linear_time():
    # Each unknown key searched the body line by line from the top: keys times lines, so
    # 1,000 unknown keys cited at the end of a long article took 5 s of the web worker's
    # own time (pandoc's CPU limit does not reach it) on every preview.
    def body(count: int) -> str:
        filler = "Couples who talk about intimacy stay close, the study found. " * 2
        keys = "".join(f"[@nokey{count}x{n}]\n" for n in range(count))
        return filler.strip() + "\n" + (filler + "\n") * count + keys

    def seconds(count: int) -> float:
        text = body(count)
        rendered = render_article(body=text, references=LIBRARY, style="apa")
        assert rendered.unknown_keys[-1] == (f"nokey{count}x{count - 1}", 2 * count + 1)
        return fastest_cpu_seconds(
            lambda: render_article(body=text + " ", references=LIBRARY), runs=1
        )

    small = seconds(200)
    large = seconds(800)
    assert large < 4 * 3 * max(small, 0.01), (small, large)  # 4 times the text: linear


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "body",
    [
        'See <a href="https://example.org/" title="a > b">the link</a> [@adams].',
        "See <abbr title=\"systolic > 140\">SH</abbr> [@adams], or <abbr title='a>b'>AB</abbr>.",
        'See <img src="/media/x.png" alt="dose > 5 mg"> [@adams].',
        "<div>\n<p title=\"a>b\">Raw block [@adams] with 1 < 2 and it's 'quoted'.</p>\n</div>",
    ],
)
def test_raw_html_with_a_greater_than_sign_in_an_attribute_keeps_its_text(style, body):
    """A `>` inside a quoted attribute value does not end the tag: the writer-attribute
    filter cut the tag there and printed the rest (`b">`) as text, dropping the link or
    the image's alt text."""
    assert project_reading(body, style, LIBRARY) == pandoc_reading(body, style, LIBRARY)


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("See <img src=/media/x.png alt=photo> [@adams].", '<img src="/media/x.png" alt="photo">'),
        ("See <a href=https://example.org/>the link</a> [@adams].",
         '<a href="https://example.org/" rel="noopener noreferrer">the link</a>'),
        ("See <ol reversed start=3><li>x</li></ol>", '<ol reversed="" start="3">'),
    ],
)  # fmt: skip
def test_raw_html_attribute_values_without_quotes_are_kept(body, kept):
    """HTML lets a value go unquoted (`src=/media/x.png`), and pandoc passes such tags on;
    the writer-attribute filter dropped them, so the image vanished without the notice a
    picture from elsewhere gets, and `href=https://example.org/>` read as a self-closing
    empty link."""
    assert kept in render_article(body=body, references=LIBRARY, style="apa").html


@pytest.mark.parametrize(
    "script",
    [
        "<script>if (a<b) show()</script>",
        '<script>\nvar tag = "<b>";\n\nvar more = a<b;\n</script>',
        "<STYLE>p{color:red}</STYLE><b>x</b>",
    ],
)
def test_text_after_a_script_holding_a_less_than_sign_is_kept(script):
    """A script is removed, never shown; the `<b` inside one read as a tag that took the
    script's closing tag with it, and the unclosed script swallowed the rest of the
    article (the page was empty)."""
    body = f"{script}\n\nImportant text [@adams].\n\n## Dose\n\nTake one."
    html = render_article(body=body, references=LIBRARY, style="apa").html
    assert "Important text" in plain(html) and "Take one." in plain(html)
    assert "<script" not in html.lower() and "<style" not in html.lower()


def test_ama_citations_whose_space_pandoc_drops_are_separated_by_a_comma():
    """The README's deviation "two citations with nothing between them": pandoc drops the
    space between some citations separated by one (`[@a] [@b]` at the start of a
    paragraph) and prints "¹²", reference 12 to a reader (AMA 11 §3.6.1: "¹,²")."""
    body = "[@adams] [@brown] [@cole] [@lee1] end."
    assert pandoc_reading(body, "ama", LIBRARY)[0] == "12 34 end."
    assert plain(render_article(body=body, references=LIBRARY, style="ama").html) == (
        "1,2 3,4 end."
    )


@pytest.mark.parametrize(
    ("style", "names"),
    [
        ("apa", ["Sleep and the heart (Adams, 2020)", "Dosing and timing (Brown & Black, 2018)"]),
        ("ama", ["Sleep and the heart", "Dosing and timing"]),
    ],
)
def test_table_of_contents_reads_headings_without_note_and_citation_numbers(style, names):
    """The contents list is plain text, so a superscript number there joins the word
    before it ("heart1", "Dosing1"). pandoc's own table of contents leaves notes out and
    keeps citations as superscripts; plain text can keep APA's, not AMA's numbers."""
    body = "## Sleep and the heart [@adams]\n\nText.\n\n## Dosing^[A note.] and timing [@brown]"
    rendered = render_article(body=body, references=LIBRARY, style=style)
    assert [entry["name"] for entry in rendered.toc] == [escape(name) for name in names]


def test_ama_narrative_number_stays_inside_its_parenthesis():
    """The README's narrative deviation: the names and their number stay inside the
    parentheses they were written in; pandoc prints "(see).¹", the number outside and the
    names gone."""
    body = "Text (see @brown). More (as @adams showed), done."
    assert pandoc_reading(body, "ama", LIBRARY)[0] == "Text (see).1 More (as2 showed), done."
    assert plain(render_article(body=body, references=LIBRARY, style="ama").html) == (
        "Text (see Brown and Black1). More (as Adams2 showed), done."
    )
