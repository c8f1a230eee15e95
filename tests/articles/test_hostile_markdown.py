"""A hostile writer's text: it changes nothing, shows nothing and stalls nothing.

Each body here is what a writer could type or paste, within the 200,000-character limit.
A body pandoc cannot render in time or memory is a message in the preview and a refused
submission, never a 500 and never a frozen revision; a body pandoc can render cannot
reach past the text: no metadata of its own (a YAML block anywhere in the text) changes
what citeproc prints or which references a revision freezes.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from articles import pandoc, workflow
from articles.models import AuditAction, AuditEvent, Revision
from articles.rendering import PandocError, markdownify_preview, render_article
from tests.builders import edit, make_article, make_reference, make_writer, messages_of, snapshot

pytestmark = pytest.mark.django_db

PREVIEW_URL = "/admin/markdownx/markdownify/"
AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
LIMIT = pandoc.MAX_BODY_CHARS


def fill(unit: str) -> str:
    """`unit` repeated to just under the size limit: separated by spaces or letters, so no
    run of one markup character is long enough for `check_limits` to see. Whole units: how
    the text ends decides whether pandoc backtracks (a last unclosed quote closes them all)."""
    return unit * ((LIMIT - 1_000) // len(unit))


# Inputs on which pandoc's Markdown reader backtracks far past every limit (measured: more
# than 40 seconds, or past the memory cap), each one past every pre-check. Which limit stops
# them first depends on the machine's speed, so the tests accept either.
BACKTRACKING = {
    "unclosed single quotes": fill("'a "),
    "unclosed TeX environments": fill("\\begin{a}"),
}
# Inputs pandoc gets through in about its CPU limit (unclosed underscores: 6 to 8 seconds
# on the benchmark machine, under 3 on a fast one): rendered, or refused if the machine is
# slower; either way an answer.
NEAR_THE_LIMIT = {
    "unclosed underscores": fill("_a "),
    "dollar-delimited math": fill("$a$ "),
    "link reference definitions": fill("[a]: "),
    "unfinished entities": fill("&#x "),
    "raw attributes": fill("`<script>alert(1)</script>`{=html} "),
}
STOPPED = re.compile(
    r"Rendering (took longer than [\d.]+ seconds|needed more than \w+ of memory|"
    r"used more than \d+ seconds of processor time) and was stopped\."
)

# --- Metadata: the document's own YAML changes nothing ----------------------------------

LIBRARY = {
    "parker2019": {
        "id": "parker2019",
        "type": "article-journal",
        "title": "Emotional intimacy and sexual satisfaction",
        "author": [{"family": "Parker", "given": "S. J."}, {"family": "Lee", "given": "K."}],
        "issued": {"date-parts": [[2019]]},
        "container-title": "The Journal of Sex Research",
    },
    "rauer2015": {
        "id": "rauer2015",
        "type": "article-journal",
        "title": "Love and power",
        "author": [{"family": "Rauer", "given": "A."}],
        "issued": {"date-parts": [[2015]]},
    },
}
TEXT = "Intimacy matters [@parker2019, p. 3; @rauer2015]. @parker2019 says so.\n"

METADATA = {
    "a reference list entry replaced": (
        "references:\n- id: parker2019\n  type: book\n  title: FORGED TITLE\n"
        "  author:\n  - family: Forged\n  issued:\n    date-parts: [[1999]]\n"
    ),
    "the reference list suppressed": "suppress-bibliography: true\n",
    "uncited works listed": "nocite: '@*'\n",
    "a heading added": "reference-section-title: 'Sources <script>alert(1)</script>'\n",
    "another language": "lang: de-DE\n",
    "another locale file": "locale: de-DE\n",
    "links off": "link-citations: false\nlink-bibliography: false\n",
    "files named": (
        "bibliography: /etc/passwd\ncsl: /etc/passwd\ncitation-abbreviations: /etc/passwd\n"
    ),
    "punctuation": "notes-after-punctuation: false\n",
    "includes": (
        "header-includes: '<script>alert(1)</script>'\ninclude-before: '<b>INJECTED</b>'\n"
    ),
}


@pytest.mark.parametrize("style", ["apa", "ama"])
@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("name", METADATA)
def test_a_yaml_block_in_the_text_changes_nothing_citeproc_prints(name, where, style):
    block = f"---\n{METADATA[name]}---\n"
    body = f"{block}\n{TEXT}" if where == "first" else f"{TEXT}\n{block}"
    plain = render_article(body=TEXT, references=LIBRARY, style=style)
    hostile = render_article(body=body, references=LIBRARY, style=style)
    assert hostile.html == plain.html
    assert hostile.references_html == plain.references_html
    assert hostile.cited_keys == plain.cited_keys == ("parker2019", "rauer2015")
    assert "FORGED" not in hostile.html + hostile.references_html


def test_a_yaml_reference_is_not_a_reference():
    body = (
        "---\nreferences:\n- id: invented2020\n  type: book\n  title: A book nobody checked\n"
        "---\n\nCure guaranteed [@invented2020].\n"
    )
    rendered = render_article(body=body, references={})
    assert rendered.unknown_keys == (("invented2020", 8),)
    assert rendered.cited_keys == ()
    assert "nobody checked" not in rendered.html + rendered.references_html


def test_the_preview_shows_the_library_entry_not_the_yaml_one(client):
    client.force_login(make_writer())
    reference = make_reference("parker2019", title="The real title")
    body = f"---\nreferences:\n- id: {reference.key}\n  title: FORGED TITLE\n---\n\n{TEXT}"
    response = client.post(PREVIEW_URL, {"content": body}, **AJAX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The real title" in page
    assert "FORGED" not in page


def test_an_invented_yaml_reference_blocks_submission_and_freezes_nothing():
    writer = make_writer()
    article = make_article(
        writer,
        body="---\nreferences:\n- id: invented2020\n  title: Unchecked\n---\n\n"
        "Cure guaranteed [@invented2020].",
    )
    before = snapshot(article)
    with pytest.raises(workflow.WorkflowError, match="invented2020"):
        workflow.submit_for_review(article=article, actor=writer)
    assert snapshot(article) == before


def test_a_suppressed_bibliography_still_freezes_the_cited_references():
    writer = make_writer()
    reference = make_reference("parker2019")
    article = make_article(
        writer, body=f"---\nsuppress-bibliography: true\n---\n\nIntimacy [@{reference.key}]."
    )
    revision = workflow.submit_for_review(article=article, actor=writer)
    assert [item["id"] for item in revision.references_csl] == [reference.key]
    assert f'id="ref-{reference.key}"' in revision.references_html


# --- Bounded: time, memory, text that is not text ------------------------------------------


@pytest.mark.parametrize("name", BACKTRACKING)
def test_backtracking_markdown_is_a_message_in_the_preview_not_a_500(client, name):
    client.force_login(make_writer())
    before = snapshot()
    response = client.post(PREVIEW_URL, {"content": BACKTRACKING[name]}, **AJAX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Fix before submitting for review" in page
    assert STOPPED.search(page), page
    assert snapshot() == before


@pytest.mark.parametrize("name", NEAR_THE_LIMIT)
def test_text_near_the_time_limit_is_rendered_or_refused_but_answered(client, name):
    client.force_login(make_writer())
    response = client.post(PREVIEW_URL, {"content": NEAR_THE_LIMIT[name]}, **AJAX)
    assert response.status_code == 200
    assert "<script" not in response.content.decode()


@pytest.mark.parametrize("name", BACKTRACKING)
def test_backtracking_markdown_cannot_be_submitted_through_the_admin(client, name):
    writer = make_writer()
    article = edit(make_article(writer), BACKTRACKING[name])  # saving it is allowed
    before = snapshot(article)
    client.force_login(writer)
    response = client.post(
        reverse("admin:articles_article_submit", args=[article.pk]),
        {"change_note": "Hostile."},
        follow=True,
    )
    assert response.status_code == 200
    assert any(
        message.startswith("Cannot submit: ") and STOPPED.search(message)
        for message in messages_of(response)
    ), messages_of(response)
    assert snapshot(article) == before
    assert not Revision.objects.filter(article=article).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.SUBMITTED).exists()


def test_pandoc_runs_under_a_memory_cap_and_says_so(monkeypatch):
    # This body takes about 750 MB in pandoc when let run; the cap stops it early (80 MB
    # after about 1 s of CPU time here). The clock and the CPU limit are generous, so on
    # any machine, however slow or busy, the cap is what stops it.
    monkeypatch.setattr(pandoc, "MAX_MEMORY", "80m")
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 120.0)
    monkeypatch.setattr(pandoc, "CPU_SECONDS", 120)
    with pytest.raises(PandocError, match=r"more than 80MB of memory"):
        render_article(body=fill("_a ") + " memory", references={})


def test_the_kernels_cpu_limit_is_a_message_too(monkeypatch):
    # The clock here is generous, so the CPU limit set on pandoc's process is what stops it,
    # as when the worker waiting for it has died.
    monkeypatch.setattr(pandoc, "CPU_SECONDS", 2)
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 60.0)
    with pytest.raises(PandocError, match=r"used more than 2 seconds of processor time"):
        render_article(body=BACKTRACKING["unclosed single quotes"] + " cpu", references={})


def test_the_memory_cap_leaves_the_heaviest_accepted_article_alone(monkeypatch):
    # As long and as cited as the limits allow. What this test is about is the memory cap
    # (pandoc needs under 200 MB of its 512), so the clock and the CPU limit are set out of
    # the way: their margin is measured by `make bench`, not here.
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 120.0)
    monkeypatch.setattr(pandoc, "CPU_SECONDS", 120)
    cited = "Intimacy matters to couples [@parker2019]. " * 25
    plain = "Couples who talk about intimacy stay close. " * 75
    sections = [f"## Section {n}\n\n{cited}{plain}" for n in range(pandoc.MAX_CITATIONS // 25)]
    body = "\n\n".join(sections)[: LIMIT - 100]
    assert body.count("[@") == pandoc.MAX_CITATIONS
    rendered = render_article(body=body, references=LIBRARY)
    assert rendered.word_count > 25_000


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\ud83d"])
def test_a_lone_surrogate_is_a_message_not_a_crash(bad):
    body = f"First line.\n\nSecond {bad} line."
    with pytest.raises(PandocError, match=r"Line 3 holds a character that is not valid text"):
        render_article(body=body, references={})
    assert "not valid text" in markdownify_preview(body)


def test_a_failure_message_names_no_server_path(monkeypatch):
    # A metadata file the sandbox refuses: the filter's error would name the server's
    # paths and print a Lua stack trace. Forced through by letting the key past.
    monkeypatch.setattr(pandoc, "_RENDERER_METADATA", "citation-abbreviations")
    with pytest.raises(PandocError) as refusal:
        render_article(
            body="---\ncitation-abbreviations: /etc/passwd\n---\n\nText [@parker2019].",
            references=LIBRARY,
        )
    message = str(refusal.value)
    assert "passwd" in message  # pandoc's reason is kept ...
    assert not re.search(r"/(?:work|etc|tmp|usr|home)/", message)  # ... without paths
    assert ".lua" not in message and "traceback" not in message


@pytest.mark.parametrize(
    "body",
    [
        "a\x00b",  # NUL
        "Line one\r\nline two\r\n\r\n* item\r",  # CRLF and CR-only newlines
        "\u202eevil\u202c \u2066isolate\u2069 😀" * 100,  # bidi overrides and emoji
        "[@<script>alert(1)</script>] @{<img src=x onerror=alert(1)>}",
    ],
)
def test_odd_characters_render_or_refuse_but_never_crash(client, body):
    client.force_login(make_writer())
    response = client.post(PREVIEW_URL, {"content": body}, **AJAX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script" not in page and "onerror" not in page
