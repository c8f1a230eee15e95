"""A writer's admin home shows their drafts, what waits for a physician, and what was sent
back to them with the physician's words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles import workflow
from tests.builders import article_in, edit, make_article, make_writer

pytestmark = pytest.mark.django_db


def home(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("admin:index")).content.decode()


def section(html: str, css_class: str) -> str:
    start = html.index(f'class="{css_class}"')
    return html[start : html.index("</ul>", start)]


def test_each_article_is_listed_where_it_stands(client):
    author = make_writer()
    draft = make_article(author, title="A draft never submitted")
    waiting = article_in("pending", author=author)
    sent = article_in("pending", author=author)
    workflow.request_changes(
        revision=sent.revision, actor=sent.physician, comment="Cite the dosing guideline."
    )
    live_then_edited = article_in("live", author=author)
    edit(live_then_edited.article, "\n\nAn unreviewed paragraph.\n")
    untouched = article_in("live", author=author)

    html = home(client, author)
    drafts = section(html, "worklist-drafts")
    assert reverse("admin:articles_article_change", args=[draft.pk]) in drafts
    assert reverse("admin:articles_article_change", args=[live_then_edited.article.pk]) in drafts
    assert reverse("admin:articles_article_change", args=[untouched.article.pk]) not in drafts
    assert reverse("admin:articles_revision_change", args=[waiting.revision.pk]) in section(
        html, "worklist-waiting"
    )
    sent_back = section(html, "worklist-sent-back")
    assert reverse("admin:articles_article_change", args=[sent.article.pk]) in sent_back
    assert "Cite the dosing guideline." in sent_back


def test_another_writers_articles_are_not_listed(client):
    mine, theirs = make_writer(), make_writer()
    other = make_article(theirs, title="Someone else's draft")
    html = home(client, mine)
    assert reverse("admin:articles_article_change", args=[other.pk]) not in html
    assert "No unsubmitted changes." in html


def test_physicians_and_editors_see_no_writer_lists(client):
    s = article_in("pending")
    assert 'class="worklist-drafts"' not in home(client, s.editor)
    assert 'class="worklist-drafts"' not in home(client, s.physician)
