"""Reusing citeproc's result between renders changes no byte of the output.

citations.lua hands a render the previous one's formatted citations when the citations
and references are the same (the live preview while the writer types). After any edit
(a word, a citation added, removed or moved, a locator, a footnote, the style) the render
that may have reused must equal, byte for byte, a render with nothing kept.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import articles.pandoc as pandoc_module
from articles import rendering
from articles.rendering import RenderedArticle, render_article


def item(key: str, family: str, year: int, kind: str = "article-journal", **fields) -> dict:
    base = {
        "id": key,
        "type": kind,
        "title": f"Outcomes of {key}",
        "author": [{"family": family, "given": "C."}],
        "issued": {"date-parts": [[year]]},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


LIBRARY = {
    "alpha2020": item("alpha2020", "Alpha", 2020, DOI="10.1000/xyz"),
    "beta2018": item("beta2018", "Beta", 2018),
    "smith2019a": item("smith2019a", "Smith", 2019, "book"),
    "smith2019b": item("smith2019b", "Smith", 2019, "book"),
    "anon2017": item("anon2017", "", 2017, "webpage", author=None, URL="https://example.org"),
    "doe:2020": item("doe:2020", "Doe", 2020),
}


def render(body: str, style: str) -> RenderedArticle:
    """A render that runs pandoc (not the renderer's own cache), reusing what is kept."""
    rendering._render_cached.cache_clear()
    return render_article(body=body, references=LIBRARY, style=style)


def render_from_scratch(body: str, style: str) -> RenderedArticle:
    pandoc_module._KEPT.clear()
    return render(body, style)


@pytest.fixture
def reuses(monkeypatch) -> list[str]:
    """The styles of the renders that were offered a kept result (so the tests below are
    not vacuous)."""
    offered: list[str] = []
    offer = pandoc_module._Reuse.offer

    def counting(self, folder: str) -> None:
        if self.kept is not None:
            offered.append(self.style)
        offer(self, folder)

    monkeypatch.setattr(pandoc_module._Reuse, "offer", counting)
    pandoc_module._KEPT.clear()
    yield offered
    pandoc_module._KEPT.clear()


EDITS = [
    "Sleep matters [@alpha2020] for adults.",
    "Sleep matters [@alpha2020] for most adults.",  # a word
    "Sleep matters [@alpha2020] for most adults [@beta2018].",  # a citation added
    "Sleep matters [@alpha2020, p. 3] for most adults [@beta2018].",  # a locator
    "Sleep matters [@alpha2020, p. 4] for most adults [@beta2018].",  # changed
    "Sleep matters for most adults [@beta2018] [@alpha2020, p. 4].",  # moved
    "Sleep matters for most adults [@beta2018] [@alpha2020, p. 4].^[See @smith2019a.]",
    "Sleep matters for most adults [@beta2018] [@alpha2020, p. 4].^[See @smith2019a!]",
    "Sleep matters for most adults [-@beta2018].^[See @smith2019a!]",  # removed
    "# Sleep [@anon2017]\n\nMatters for adults [-@beta2018].^[See @smith2019a!]",
    "# Sleep [@anon2017]\n\nMatters for adults [-@beta2018].\n\n# Further reading",
    "# Sleep [@anon2017]\n\nMatters for adults [-@beta2018].\n\n# More reading",
    "“Sleep [@smith2019a; @smith2019b].” Then [@doe:2020]: done.",
    "“Sleep [@smith2019a; @smith2019b]”. Then [@doe:2020]; done.",
    "Sleep [@nosuch] and [@alpha2020].",
    "Sleeping [@nosuch] and [@alpha2020].",
    "---\nnocite: '@beta2018'\n---\n\nSleeping [@nosuch] and [@alpha2020].",
    "---\nnocite: '@beta2018'\n---\n\nSleep [@nosuch] and [@alpha2020].",
]


@pytest.mark.parametrize("style", ["apa", "ama"])
def test_a_sequence_of_edits_renders_as_from_scratch(style, reuses):
    for body in EDITS:
        reused = render(body, style)
        assert reused == render_from_scratch(body, style), body
    if style == "apa":  # AMA moves punctuation beside every citation: never kept
        assert len(reuses) >= len(EDITS) // 2


def test_changing_the_style_renders_as_from_scratch(reuses):
    body = EDITS[3]
    for style in ("apa", "ama", "apa", "ama"):
        assert render(body, style) == render_from_scratch(body, style)
        render(body, style)  # keep this style's result for the next round
    assert "apa" in reuses


_KEYS = st.sampled_from([*LIBRARY, "nosuch"])
_LOCATORS = st.sampled_from(["", ", p. 3", ", pp. 3-5", ", chap. 2", ", 33", ", {ii, A}"])
_ONE = st.builds(
    lambda prefix, key, locator: f"{prefix}@{key}{locator}",
    st.sampled_from(["", "see ", "*cf.* ", "-"]),
    _KEYS,
    _LOCATORS,
)
_CITATION = st.one_of(
    st.builds(lambda cites: "[" + "; ".join(cites) + "]", st.lists(_ONE, min_size=1, max_size=3)),
    st.builds(lambda key: f"@{key}", _KEYS),
    st.builds(lambda key: f"@{key} [p. 1]", _KEYS),
    st.builds(lambda key: f"^[see @{key}]", _KEYS),
)
_SENTENCE = st.builds(
    lambda word, citation, after: f"{word} {citation}{after}",
    st.sampled_from(["Text", "“Quoted", "(Aside", "*Emphasis*", "`code`"]),
    _CITATION,
    st.sampled_from(["", ".", ",", ";", ":", "?", "”", ")", " word"]),
)
_BLOCK = st.builds(
    lambda start, sentences: start + " ".join(sentences),
    st.sampled_from(["", "# ", "- ", "> ", "1. "]),
    st.lists(_SENTENCE, min_size=1, max_size=3),
)
_DOCUMENT = st.builds("\n\n".join, st.lists(_BLOCK, min_size=1, max_size=4))


def edited(body: str, edit: str, sentence: str) -> str:
    return {
        "word": body.replace("Text", "Texts", 1) + " more",
        "locator": body.replace("p. 3", "p. 9", 1),
        "remove": re.sub(r"\[[^\]]*@[^\]]*\]", "", body, count=1),
        "add": f"{body}\n\n{sentence}",
        "move": f"{sentence}\n\n{body}",
        "footnote": body + " then^[a note [@beta2018]]",
        "none": body,
    }[edit]


@settings(max_examples=40, deadline=None)
@given(
    body=_DOCUMENT,
    edit=st.sampled_from(["word", "locator", "remove", "add", "move", "footnote", "none"]),
    sentence=_SENTENCE,
    style=st.sampled_from(["apa", "ama"]),
)
def test_any_edit_renders_as_from_scratch(body, edit, sentence, style):
    render_from_scratch(body, style)
    after = edited(body, edit, sentence)
    assert render(after, style) == render_from_scratch(after, style)
