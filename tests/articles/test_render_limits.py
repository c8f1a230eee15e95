"""Rendering is bounded: pathological Markdown is refused with a message that says what to
change, a pandoc failure or timeout is a message too, and nothing is ever frozen from it.
The writer's text is still saved."""

from __future__ import annotations

import re

import lxml.html
import pytest

from articles import pandoc, workflow
from articles.models import Article
from articles.rendering import PandocError, markdownify_preview, render_article
from tests.builders import edit, make_article, make_writer, snapshot

pytestmark = pytest.mark.django_db

PATHOLOGICAL = {
    "brackets": ("[" * 10_000, "repeats “[”"),
    "citation brackets": ("[ x @a" * 6_000, "more “[” than it closes"),
    "emphasis": ("*" * 190_000, "repeats “*”"),
    "backticks": ("`" * 190_000, "repeats “`”"),
    "unclosed links": ("[a](b" * 30_000, "more “(” than it closes"),
    "deep list": ("".join(" " * (2 * i) + "- x\n" for i in range(100)), "nested 99 levels"),
    "deep quote": (">" * 1_000 + " x", "nested 1000 levels"),
    "too long": ("word " * 50_000, "the limit is 200,000"),
    "unclosed HTML elements": ("x " + "<span>a " * 2_400, "2400 of them “span”"),
    "unclosed elements of many kinds": (
        "".join(f"<{name} class=x>a " for name in ("div", "pre", "textarea", "b") * 100),
        "400 more HTML tags than it closes",
    ),
    "too many citations": ("Cited [@a; -@b]. " * 501, "cites 1,002 times; the limit is 1,000"),
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_markdown_is_refused_with_what_to_change(name):
    body, message = PATHOLOGICAL[name]
    with pytest.raises(PandocError) as refusal:
        render_article(body=body, references={})
    assert message in str(refusal.value)
    assert message in markdownify_preview(body)


def test_a_timeout_is_a_message_not_a_crash(monkeypatch):
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 0.001)
    with pytest.raises(PandocError, match="longer than"):
        # Text no other test renders: a kept render would not run pandoc at all.
        render_article(body="Plain text that times out, once.", references={})


def test_nothing_is_frozen_from_text_that_cannot_be_rendered():
    author = make_writer()
    article = make_article(author)
    article = edit(article, "\n\n" + "[" * 5_000 + "\n")  # the save itself succeeds
    assert "[" * 5_000 in Article.objects.get(pk=article.pk).body
    before = snapshot(article)
    with pytest.raises(workflow.WorkflowError, match=re.escape("Cannot submit: Line 5 repeats")):
        workflow.submit_for_review(article=article, actor=author)
    assert snapshot(article) == before


def test_nothing_is_frozen_from_text_that_cites_too_often():
    author = make_writer()
    article = edit(make_article(author), "Cited [@a].\n" * (pandoc.MAX_CITATIONS + 1))
    before = snapshot(article)
    with pytest.raises(
        workflow.WorkflowError, match=re.escape("Cannot submit: The text cites 1,001 times")
    ):
        workflow.submit_for_review(article=article, actor=author)
    assert snapshot(article) == before


def test_ordinary_articles_are_well_inside_the_limits():
    body = "\n\n".join(
        f"## Section {n}\n\n" + "Intimacy matters to couples. " * 40 for n in range(30)
    )
    nested = "".join(" " * (2 * i) + "- level\n" for i in range(6))
    rendered = render_article(body=body + "\n\n" + nested, references={})
    assert rendered.word_count > 4_000


# --- Property: random and adversarial Markdown ---------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(
    [
        "[", "]", "(", ")", "*", "_", "`", "```", "~~", "<", ">", "\n", "\n\n", "  ", "- ",
        "> ", "1. ", "# ", "|", "\\", "!", "@a", "[@a]", "[-@a, p. 3]", "@{a}", "^[note]",
        "[^1]", "[^1]: n", "<script>alert(1)</script>", '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">j</a>', "[j](javascript:alert(1))",
        "[d](data:text/html;base64,PHNjcmlwdD4=)", "<svg onload=alert(1)>",
        '<div style="display:none" id="x" class="y">h</div>', "<!--", "-->", "&#x3C;",
        "java&#x09;script:", "{=html}", "```{=html}\n<script>x</script>\n```", "$x$",
        "word", "é", "😀", "\u202e",
    ]
)  # fmt: skip
_FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "style", "svg", "math", "form", "input"}


def dangers(html: str) -> list[str]:
    """What in this HTML could run: elements, event handlers, script-bearing URLs."""
    found = []
    for element in lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div").iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in _FORBIDDEN_TAGS:
            found.append(element.tag)
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{element.tag}@{name}")
            cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
            if name in ("href", "src") and cleaned.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                found.append(f"{element.tag}@{name}={value}")
    return found


LIBRARY = {"a": {"id": "a", "type": "book", "title": "T", "issued": {"date-parts": [[2020]]}}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40).map("".join), st.sampled_from(["apa", "ama"]))
def test_any_markdown_renders_safely_or_is_refused_with_a_message(body, style):
    try:
        rendered = render_article(body=body, references=LIBRARY, style=style)
    except PandocError as refusal:
        assert str(refusal)  # a message for the writer, never a crash
        return
    for html in (rendered.html, rendered.references_html):
        assert dangers(html) == [], html


def test_the_danger_check_can_fail():
    found = dangers('<a href=" java\tscript:x" onclick="y">l</a><script>z</script>')
    assert sorted(found) == ["a@href= java\tscript:x", "a@onclick", "script"]


def test_citations_are_counted_as_pandoc_reads_them():
    # At the limit, and e-mail addresses and escaped `@` past it, are not refused.
    pandoc.check_limits("Cited [@a].\n" * pandoc.MAX_CITATIONS)
    pandoc.check_limits("Write to desk@clinic.example or \\@a. " * 2 * pandoc.MAX_CITATIONS)
    with pytest.raises(PandocError, match="cites 1,001 times"):
        pandoc.check_limits("As @a says.\n" * pandoc.MAX_CITATIONS + "And @{b}.")


def test_balanced_void_and_self_closing_html_is_not_counted_as_unclosed():
    pandoc.check_limits("<span>a</span> <P>b</p> <br> <img src=x> <hr/> <x-y/> " * 1_000)
    pandoc.check_limits("<span>a " * pandoc.MAX_UNCLOSED_BRACKETS)  # at the limit


@pytest.fixture
def pandoc_runs(monkeypatch) -> list[int]:
    """pandoc's real runs, counted as they start (each still runs)."""
    runs: list[int] = []
    real = pandoc._run_bounded

    def counted(*args, **kwargs):
        runs.append(len(runs) + 1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pandoc, "_run_bounded", counted)
    return runs


# pandoc's parser backtracks on this for tens of seconds: the CPU limit below stops it.
STOPPED_BY_THE_CPU_LIMIT = "'a " * 60_000 + " remembered"


def test_a_render_the_cpu_limit_stopped_is_not_run_again(monkeypatch, pandoc_runs):
    """A hostile or unlucky text holds a worker for the whole CPU limit; saving it,
    submitting it and previewing it again must not each cost that again."""
    monkeypatch.setattr(pandoc, "CPU_SECONDS", 1)
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 60.0)
    messages = []
    for _ in range(3):
        with pytest.raises(PandocError, match="more than 1 seconds of processor time") as stop:
            render_article(body=STOPPED_BY_THE_CPU_LIMIT, references={})
        messages.append(str(stop.value))
    assert len(pandoc_runs) == 1
    assert len(set(messages)) == 1
    assert "more than 1 seconds of processor time" in markdownify_preview(STOPPED_BY_THE_CPU_LIMIT)
    assert len(pandoc_runs) == 1


def test_a_remembered_failure_is_for_the_limits_it_met(monkeypatch, pandoc_runs):
    """With more time the same text is tried again (here: it is stopped by the clock)."""
    monkeypatch.setattr(pandoc, "CPU_SECONDS", 1)
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 60.0)
    with pytest.raises(PandocError, match="processor time"):
        render_article(body=STOPPED_BY_THE_CPU_LIMIT + " twice", references={})
    monkeypatch.setattr(pandoc, "CPU_SECONDS", 600)
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 0.5)
    with pytest.raises(PandocError, match="longer than 0.5 seconds"):
        render_article(body=STOPPED_BY_THE_CPU_LIMIT + " twice", references={})
    assert len(pandoc_runs) == 2


def test_a_timeout_is_tried_again_since_the_clock_depends_on_the_moment(monkeypatch, pandoc_runs):
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 0.001)
    for _ in range(2):
        with pytest.raises(PandocError, match="longer than"):
            render_article(body="Plain text that times out, twice.", references={})
    assert len(pandoc_runs) == 2
