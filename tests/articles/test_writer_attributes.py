"""No id, class or style from the writer reaches a page: only what the renderer generates.

A writer's `<div id="nav-sidebar">` was hidden by the admin's own stylesheet on the review
page and shown to readers. The property: rendering a body is the same whether or not its
raw HTML carries id, class, style or any other attribute outside the writer's allow-list.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.rendering import render_article

# Values chosen to look like what the renderer itself generates, and like admin and page
# selectors, so an allow-list by value would let them through.
_VALUES = st.sampled_from(
    [
        "nav-sidebar",
        "section-dose",
        "cite-parker2019-1",
        "ref-parker2019",
        "fn:1",
        "citation",
        "reference-entry",
        "footnote",
        "display:none",
        "hidden",
        "content-main",
    ]
) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz-:_ ", min_size=1, max_size=12)
_ATTRIBUTES = st.sampled_from(["id", "class", "style", "data-x", "onclick", "hidden", "name"])
_TAGS = st.sampled_from(
    ["div", "span", "p", "a", "sup", "li", "h2", "table", "img", "code", "mark"]
)
_TEXT = st.sampled_from(["take ten times the dose", "Intimacy matters", "x", "*em*", ""])


@st.composite
def writer_html(draw) -> tuple[str, str]:
    """(body with hostile attributes, the same body with them removed)."""
    pieces_with, pieces_without = [], []
    for _ in range(draw(st.integers(1, 5))):
        tag = draw(_TAGS)
        attrs = draw(st.lists(st.tuples(_ATTRIBUTES, _VALUES), min_size=1, max_size=3))
        text = draw(_TEXT)
        href = ' href="#ref-parker2019"' if tag == "a" else ""
        hostile = "".join(f' {name}="{value}"' for name, value in attrs)
        block = draw(st.booleans())
        opening_with, opening_without = f"<{tag}{href}{hostile}>", f"<{tag}{href}>"
        if tag == "img":
            pieces_with.append(opening_with)
            pieces_without.append(opening_without)
            continue
        wrap = ("\n\n", "\n\n") if block else ("", " ")
        pieces_with.append(f"{wrap[0]}{opening_with}{text}</{tag}>{wrap[1]}")
        pieces_without.append(f"{wrap[0]}{opening_without}{text}</{tag}>{wrap[1]}")
    prefix = "## Heading\n\nIntro paragraph.\n\n"
    return prefix + "".join(pieces_with), prefix + "".join(pieces_without)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writer_html())
def test_no_writer_attribute_survives(bodies):
    hostile, clean = bodies
    assert render_article(body=hostile, references={}).html == (
        render_article(body=clean, references={}).html
    )


def test_the_review_page_attack_renders_the_text_without_its_id():
    rendered = render_article(
        body='<div id="nav-sidebar" class="hidden" style="display:none">take ten times the '
        "dose</div>\n",
        references={},
    )
    assert "take ten times the dose" in rendered.html
    assert not re.search(r"\b(id|class|style)=", rendered.html)


@pytest.mark.parametrize(
    "body",
    [
        "## Heading {#nav-sidebar .hidden}\n",  # attr_list syntax stays text
        "```{.python #nav-sidebar}\ncode\n```\n",  # fenced-code attributes
        '<div markdown="1" id="nav-sidebar">*x*</div>\n',  # md_in_html
        "Para\n{: #nav-sidebar .hidden style='display:none' }\n",
    ],
)
def test_markdown_syntaxes_for_attributes_give_the_writer_none(body):
    html = render_article(body=body, references={}).html
    assert "nav-sidebar" not in re.findall(r'(?:id|class)="([^"]*)"', html)
    assert 'class="hidden"' not in html
    assert not re.search(r"<[^>]*\sstyle=", html)  # as text it is harmless


def test_the_renderer_keeps_its_own_attributes():
    rendered = render_article(
        body="## Dosing\n\nText[^a].\n\n[^a]: A note.\n", references={}, style="apa"
    )
    assert 'id="section-dosing"' in rendered.html
    assert 'class="footnote-ref"' in rendered.html
    assert 'id="fn1"' in rendered.html and 'id="fnref1"' in rendered.html


def test_writer_attributes_on_the_allow_list_are_kept():
    html = render_article(
        body='<a href="https://example.org/" title="Source" class="x">link</a>\n', references={}
    ).html
    assert 'href="https://example.org/"' in html
    assert 'title="Source"' in html
    assert "class=" not in html
