"""Search: PostgreSQL full-text with ranking, the SQLite fallback, and hostile input."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from articles.search import MAX_QUERY_LENGTH, clean_query, fallback_snippet, highlight

SEARCH = "/search/"


def _search(client, q, **extra):
    response = client.get(reverse("articles:search"), {"q": q, **extra})
    assert response.status_code == 200
    return response


def _slugs(response) -> list[str]:
    return [article.slug for article in response.context["articles"]]


@pytest.fixture
def corpus(make_published):
    title_hit = make_published(
        slug="title-hit",
        title="Insomnia and worry",
        summary="Why the mind races at night.",
        body="## Nights\n\nA racing mind keeps many people awake.",
    )
    body_hit = make_published(
        slug="body-hit",
        title="Stress at work",
        summary="Work pressure and health.",
        body="## Effects\n\nLong hours can lead to insomnia over time.",
    )
    unrelated = make_published(
        slug="unrelated",
        title="Healthy eating",
        summary="Food and mood.",
        body="## Diet\n\nVegetables help.",
    )
    return title_hit, body_hit, unrelated


def test_url_is_search():
    assert reverse("articles:search") == SEARCH


def test_finds_an_article_by_a_title_word(client, corpus):
    response = _search(client, "worry")
    assert _slugs(response) == ["title-hit"]
    html = response.content.decode()
    assert "Insomnia and worry" in html
    assert "1 result for" in html


def test_title_match_ranks_above_body_match(client, corpus):
    response = _search(client, "insomnia")
    slugs = _slugs(response)
    assert set(slugs) == {"title-hit", "body-hit"}
    # Full-text ranks the title (weight A) above the body (weight C); the SQLite fallback
    # orders title matches first too.
    assert slugs == ["title-hit", "body-hit"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")
def test_postgresql_full_text_stems_and_ranks(client, corpus):
    response = _search(client, "worries")  # stemmed: worry ≈ worries
    assert _slugs(response) == ["title-hit"]
    ranks = [article.rank for article in _search(client, "insomnia").context["articles"]]
    assert ranks[0] > ranks[1] > 0


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the fallback is for SQLite")
def test_sqlite_fallback_matches_any_field_case_insensitively(client, corpus):
    assert _slugs(_search(client, "INSOMNIA")) == ["title-hit", "body-hit"]
    assert _slugs(_search(client, "vegetables")) == ["unrelated"]
    assert _slugs(_search(client, "food mood")) == ["unrelated"]  # every word, any field


def test_snippet_highlights_the_match_and_drops_markdown(client, corpus):
    response = _search(client, "hours")
    html = response.content.decode()
    assert "<mark>hours</mark>" in html
    snippet = str(response.context["articles"][0].snippet)
    assert "##" not in snippet


def test_empty_query_shows_a_prompt_without_querying(client, corpus, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("articles:search"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Search our articles" in html
    assert 'class="search-prompt"' in html
    assert response.context["page_obj"] is None
    with django_assert_num_queries(0):
        blank = client.get(reverse("articles:search"), {"q": "   "})
    assert 'class="search-prompt"' in blank.content.decode()


def test_no_results(client, corpus):
    response = _search(client, "xylophone")
    html = response.content.decode()
    assert "0 results for" in html
    assert "No articles match your search" in html


def test_very_long_query_is_truncated(client, corpus):
    response = _search(client, "insomnia " + "a" * 1000)
    assert len(response.context["query"]) == MAX_QUERY_LENGTH
    html = response.content.decode()
    assert "a" * (MAX_QUERY_LENGTH + 1) not in html
    assert f'maxlength="{MAX_QUERY_LENGTH}"' in html


def test_script_query_is_escaped(client, corpus):
    response = _search(client, '<script>alert("x")</script> insomnia')
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "query",
    [
        "%' OR 1=1 --",
        "' OR '1'='1",
        "%",
        "_",
        "\\",
        '"unbalanced',
        "a & b | !c <-> d",
        "-insomnia",
        "insomnia\x00worry",
        "😀 émotions",
        "(((",
        ":*",
        "OR",
    ],
)
def test_odd_characters_are_handled(client, corpus, query):
    response = _search(client, query)
    html = response.content.decode()
    assert "\x00" not in html
    # Wildcards are not wildcards: a bare % or _ does not match every article.
    if query in ("%", "_", "%' OR 1=1 --", "' OR '1'='1"):
        assert "unrelated" not in _slugs(response)


def test_results_are_paginated(client, make_published):
    for n in range(12):
        make_published(slug=f"sleep-{n:02d}", title=f"Sleep tips {n:02d}")
    first = _search(client, "sleep")
    assert first.context["page_obj"].paginator.count == 12
    assert len(_slugs(first)) == 10
    assert 'href="?q=sleep&amp;page=2"' in first.content.decode()
    second = _search(client, "sleep", page=2)
    assert len(_slugs(second)) == 2
    # An out-of-range page shows the last page rather than an error.
    assert _search(client, "sleep", page=99).context["page_obj"].number == 2


def test_search_page_is_noindex(client, corpus):
    html = _search(client, "insomnia").content.decode()
    assert '<meta name="robots" content="noindex, follow">' in html


# --- The helpers, directly ---------------------------------------------------------------


def test_clean_query():
    assert clean_query(None) == ""
    assert clean_query("  a \t\n b  ") == "a b"
    assert clean_query("a\x00b") == "a b"
    assert clean_query("x" * 1000) == "x" * MAX_QUERY_LENGTH


def test_highlight_escapes_everything_but_the_marks():
    raw = "\ue000<b>bold</b>\ue001 & <script>x</script> \ue000stray"
    out = str(highlight(raw))
    assert "<mark>" in out and "<b>" not in out and "<script>" not in out
    assert "&amp;" in out
    assert "\ue000" not in out and "\ue001" not in out
    assert out.count("<mark>") == out.count("</mark>")


def test_fallback_snippet_marks_words_around_the_first_match():
    body = "## Heading\n\n" + "word " * 80 + "the needle is here [@key2019] " + "tail " * 80
    snippet = fallback_snippet(body, "needle")
    assert snippet.startswith("… ") and snippet.endswith(" …")
    rendered = str(highlight(snippet))
    assert "<mark>needle</mark>" in rendered
    assert "[@key2019]" not in rendered
