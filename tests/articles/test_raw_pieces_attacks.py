"""Raw HTML cut into pieces, as a hostile writer would cut it, after 81752df.

Since that change each raw piece is cleaned on its own, except the pieces that open a
script or style element (without closing it) or start with its closing tag: those wait
for a second pass over the lists that hold them, where an opening piece goes with
everything up to its closing piece. These tests pin down what that renders to wherever a
writer can put such pieces (footnotes, citations, tables, headings, links...), so that a
change to either pass cannot silently show a script, lose the writer's text or let an
attribute through.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from articles.rendering import render_article

REFERENCES = {
    "key": {
        "id": "key",
        "type": "book",
        "title": "T",
        "author": [{"family": "Aster", "given": "B"}],
        "issued": {"date-parts": [[2020]]},
    }
}


def render(body: str, references: dict | None = None) -> str:
    return render_article(body=body, references=references or {}).html


def plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- A closing tag with more letters after the name (`</scriptx>`) ---------------------
#
# Within one piece the filter reads `</scriptx` as closing the script (clean_html drops
# `<script>a</scriptx>` whole), and so did the list pass before 81752df. After it, the
# list pass wanted the exact name: the same text cut into pieces by pandoc (an inline
# `<style>`, its content as text, `</styles>`) showed the style sheet or script as text.


@pytest.mark.parametrize(
    "body",
    [
        "Use <style>b{c:d}</styles> after",
        "Use <STYLE>b{c:d}</STYLEs> after",
        "Use `<script>`{=html}alert(1)`</scriptx>`{=html} after",
        "```{=html}\n<script>\n```\n\nalert(1)\n\n```{=html}\n</scripts>\n```\n\nUse after",
        "[see <style>b{c:d}</styles> @key] Use after",
        "Note^[<style>b{c:d}</styles> kept] Use after",
    ],
)
def test_a_closing_tag_with_letters_after_the_name_closes_as_it_does_in_one_piece(body):
    html = render(body, REFERENCES)
    assert "b{c:d}" not in html
    assert "alert" not in html
    assert "Use after" in plain(html)


def test_the_same_text_renders_the_same_in_one_piece_and_cut_into_pieces():
    whole = "Use `<style>b{c:d}</styles>`{=html} after"
    cut = "Use <style>b{c:d}</styles> after"
    assert plain(render(whole)) == plain(render(cut)) == "Use after"


# --- Scripts and style sheets in pieces, wherever a writer can put them -----------------

STYLE = "<style>b{c:d}</style>"  # pandoc: `<style>`, the style sheet as text, `</style>`
SCRIPT = "`<script>`{=html}alert(1)`</script>`{=html}"  # an inline script, in pieces
CONTEXTS = {
    "paragraph": "Before PIECES after.",
    "footnote": "Text.^[Before PIECES after.]",
    "footnote, second paragraph": "Text.[^n]\n\n[^n]: First.\n\n    Before PIECES after.",
    "citation prefix": "[Before PIECES after @key, p. 3] end.",
    "citation suffix": "[@key, Before PIECES after] end.",
    "narrative citation suffix": "@key [Before PIECES after] end.",
    "second citation's prefix": "[@key; Before PIECES after @key] end.",
    "table cell": "| h |\n|---|\n| Before PIECES after. |\n\nTable: Caption.",
    "table caption": "| h |\n|---|\n| c |\n\nTable: Before PIECES after.",
    "heading": "# Before PIECES after\n\nText.",
    "link text": "[Before PIECES after](https://example.org).",
    "image alt and caption": "![Before PIECES after](/media/a.png)\n\nText.",
    "definition term": "Before PIECES after\n:   Meaning.",
    "definition": "Term\n:   Before PIECES after.",
    "nested list": "- One\n    - Before PIECES after.\n    - Three",
    "block quote": "> Before PIECES after.",
    "emphasis": "*Before PIECES after.*",
    "span with attributes": "[Before PIECES after.]{.x #y style=z}",
    "div with attributes": "::: {.x #y}\nBefore PIECES after.\n:::",
    "line block": "| Before PIECES after.\n| Next line.",
}


@pytest.mark.parametrize("payload", [STYLE, SCRIPT], ids=["style", "script"])
@pytest.mark.parametrize("context", CONTEXTS.values(), ids=CONTEXTS.keys())
def test_a_script_or_style_sheet_in_pieces_goes_whole_and_the_text_stays(context, payload):
    html = render(context.replace("PIECES", payload), REFERENCES)
    # (pandoc made a heading's id from its text, script and all, before the filter ran.)
    assert "b{c:d}" not in plain(html)
    assert "alert" not in plain(html)
    assert re.search(r"Before\s+after", plain(html)), html
    assert not re.search(r"<(script|style)\b", html, re.IGNORECASE)
    assert not re.search(r"""\s(style|class)=["']?[xyz]\b""", html)


@pytest.mark.parametrize(
    "body",
    [
        # Upper and mixed case, attributes, a line break before `>` or in the closing tag.
        "Before `<ScRiPt type=module\n>`{=html}alert(1)`</sCrIpT\n>`{=html} after",
        "Before `<STYLE media=all>`{=html}b{c:d}`</Style >`{=html} after",
        # Whitespace-led block pieces, and the blocks between them.
        "```{=html}\n  <style>\n```\n\nb{c:d}\n\n```{=html}\n  </style>\n```\n\nBefore after",
        "```{=html}\n<script>\n```\n\nalert(1)\n\n- b{c:d}\n\n```{=html}\n</SCRIPT>\n```\n\n"
        "Before after",
        # Two in a row, of both kinds, in one paragraph.
        f"Before {STYLE} {SCRIPT} {STYLE} after",
        # A footnote that holds a whole script block.
        "Text.[^n] Before after\n\n[^n]: ```{=html}\n    <script>alert(1)</script>\n    ```",
    ],
)
def test_scripts_and_style_sheets_however_written_go_with_their_content(body):
    html = render(body)
    assert "alert" not in html
    assert "b{c:d}" not in html
    assert re.search(r"Before\s+after", plain(html)), html


@pytest.mark.parametrize(
    ("body", "html"),
    [
        # No opening piece before it: the closing tag goes, the markup after it is
        # cleaned like any other (no writer's class or id, not even a renderer's id).
        (
            "x `</script><b class=citation id=cite-key-1 style=color:red>kept</b>`{=html} y",
            "<p>x <b>kept</b> y</p>",
        ),
        # An opening piece with no closing piece in its list: only the tag goes.
        ("Use `<script class=x>`{=html}the label", "<p>Use the label</p>"),
        ("Use `<STYLE id=refs>`{=html}*the* label", "<p>Use <em>the</em> label</p>"),
        # A closing piece before the opening one does not close it.
        ("A `</style>`{=html} b `<style>`{=html} c", "<p>A  b  c</p>"),
        # Opened in a footnote, closed outside it: different lists, nothing goes.
        ("A^[b `<style>`{=html} c] d `</style>`{=html} e", None),
    ],
)
def test_unmatched_pieces_lose_only_their_tags(body, html):
    rendered = render(body)
    if html is not None:
        assert rendered == html
    else:
        assert plain(rendered).startswith("A")
        assert "b c" in plain(rendered)
        assert "d e" in plain(rendered)
        assert "<style" not in rendered.lower()


def test_a_script_piece_anywhere_leaves_every_other_piece_cleaned():
    # A script piece makes the filter go through every list again: the pieces it
    # cleaned in the first pass must not come back with their attributes.
    body = (
        f"Before {SCRIPT} after.\n\n"
        "<b class=x id=y style=z>bold</b> [see <i class=citation>it</i> @key].\n\n"
        "```{=html}\n<p class=x>para <span id=cite-key-9>s</span></p>\n```\n"
    )
    html = render(body, REFERENCES)
    assert "<b>bold</b>" in html
    assert "<i>it</i>" in html
    assert "cite-key-9" not in html
    assert not re.search(r"""\s(style|class|id)=["']?(x|y|z|cite-key-9)\b""", html)
    assert '<span class="x-narrative">' not in html


@pytest.mark.parametrize(
    "body",
    [
        "Before `\\textbf{LATEX}`{=latex} after.",
        "Before after.\n\n```{=latex}\n\\LATEX\n```\n",
        "Before `LATEX`{=tex} after `LATEX`{=openxml}.",
        "[Before `\\LATEX`{=latex} after @key].",
        "Text.^[Before `\\LATEX`{=latex} after.]",
        # With a script piece too, so that the second pass runs.
        f"Before `\\LATEX`{{=latex}} after {SCRIPT}.\n\n```{{=latex}}\n\\LATEX\n```\n",
        f"Before {STYLE} after `\\LATEX`{{=latex}}^[`\\LATEX`{{=latex}}].",
    ],
)
def test_other_raw_formats_never_reach_the_page(body):
    html = render(body, REFERENCES)
    assert "LATEX" not in html
    assert re.search(r"Before\s+after", plain(html)), html


def test_thousands_of_script_and_style_pieces_keep_the_text_between_them():
    # Unclosed openings (as many as the limit on unclosed tags lets through), stray
    # closings and pairs around words: thousands of pieces in all.
    unclosed = " ".join(f"`<script>`{{=html}}w{n}" for n in range(250))
    stray = " ".join(f"`</style>`{{=html}}s{n}" for n in range(1500))
    pairs = " ".join(f"k{n} {STYLE}" for n in range(1000))
    html = render(f"{unclosed}\n\n{stray}\n\n{pairs}")
    words = plain(html).split()
    assert words == (
        [f"w{n}" for n in range(250)]
        + [f"s{n}" for n in range(1500)]
        + [f"k{n}" for n in range(1000)]
    )
