"""Rendering is bounded: pathological Markdown is refused with a message that says what to
change, a pandoc failure or timeout is a message too, and nothing is ever frozen from it.
The writer's text is still saved."""

from __future__ import annotations

import re

import pytest

from articles import pandoc, workflow
from articles.models import Article
from articles.rendering import PandocError, markdownify_preview, render_article
from tests.articles.admin_fixtures import edit, make_article, snapshot, writer

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
        render_article(body="Plain text.", references={})


def test_nothing_is_frozen_from_text_that_cannot_be_rendered():
    author = writer()
    article = make_article(author)
    article = edit(article, "\n\n" + "[" * 5_000 + "\n")  # the save itself succeeds
    assert "[" * 5_000 in Article.objects.get(pk=article.pk).body
    before = snapshot(article)
    with pytest.raises(workflow.WorkflowError, match=re.escape("Cannot submit: Line 5 repeats")):
        workflow.submit_for_review(article=article, actor=author)
    assert snapshot(article) == before


def test_ordinary_articles_are_well_inside_the_limits():
    body = "\n\n".join(
        f"## Section {n}\n\n" + "Intimacy matters to couples. " * 40 for n in range(30)
    )
    nested = "".join(" " * (2 * i) + "- level\n" for i in range(6))
    rendered = render_article(body=body + "\n\n" + nested, references={})
    assert rendered.word_count > 4_000
