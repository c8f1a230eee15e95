"""Public reviewer profiles: who is shown, what a profile shows, what they reviewed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from articles.models import Article
from articles.workflow import approve, publish, submit_for_review, unpublish
from reviewers.models import Reviewer
from tests.builders import PASSWORD, REVIEWER, make_physician, make_reviewer_profile, make_user


def _html(response) -> str:
    return response.content.decode()


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


@pytest.fixture
def second_reviewer(db) -> Reviewer:
    return make_physician(
        "physician2",
        display_name="Ada Okafor",
        credentials="D.O.",
        title="Staff Psychiatrist",
        board_certifications="Child and Adolescent Psychiatry",
        specialties="Adolescent anxiety",
        slug="ada-okafor",
    ).reviewer_profile


def _approve_and_publish_new_revision(article, reviewer: Reviewer, editor, *, title: str):
    article = Article.objects.get(pk=article.pk)
    article.title = title
    article.save()
    revision = submit_for_review(article=article, actor=article.author, change_note="Update.")
    approve(
        revision=revision,
        actor=reviewer.user,
        password=PASSWORD,
        attestation_accepted=True,
        seen_hash=revision.content_hash,
    )
    publish(revision=revision, actor=editor)
    return revision


def test_reviewer_profile_shows_who_they_are(client, published_article, reviewer_profile):
    reviewer_profile.bio = "Dr. Hrymoc leads our medical team.\n\nHe trained at UCLA."
    reviewer_profile.photo = "reviewers/hrymoc.jpg"
    reviewer_profile.photo_alt = "Dr. Mark Hrymoc smiling in a white coat"
    reviewer_profile.save()
    response = client.get(reverse("reviewers:detail", kwargs={"slug": "mark-hrymoc"}))
    assert response.status_code == 200
    main = _main(_html(response))
    assert '<h1>Mark Hrymoc, <span class="credentials">M.D.</span></h1>' in main
    assert "Chief Medical Officer" in main
    assert (
        '<img class="profile-photo" src="/media/reviewers/hrymoc.jpg" '
        'alt="Dr. Mark Hrymoc smiling in a white coat"' in main
    )
    certifications = main.split('id="profile-certifications-heading"', 1)[1].split("</ul>")[0]
    assert "<li>General Psychiatry</li>" in certifications
    assert "<li>Addiction Psychiatry</li>" in certifications
    specialties = main.split('id="profile-specialties-heading"', 1)[1].split("</ul>")[0]
    assert "<li>Couples therapy</li>" in specialties
    assert "<p>Dr. Hrymoc leads our medical team.</p>" in main
    assert "<p>He trained at UCLA.</p>" in main
    assert '<link rel="canonical" href="http://127.0.0.1:8000/reviewers/mark-hrymoc/">' in (
        _html(response)
    )


def test_profile_photo_without_description_gets_a_meaningful_alt(client, reviewer_profile):
    reviewer_profile.photo = "reviewers/hrymoc.jpg"
    reviewer_profile.save()
    html = _html(client.get(reviewer_profile.get_absolute_url()))
    assert 'alt="Portrait of Mark Hrymoc"' in html


def test_profile_lists_the_published_articles_they_reviewed(
    client,
    published_article,
    make_published,
    make_article,
    reviewer_profile,
    editor,
    second_reviewer,
):
    make_published(slug="second", title="Anxiety at night")
    draft = make_article(slug="draft", title="Unreviewed draft title")
    submit_for_review(article=draft, actor=draft.author)
    gone = make_published(slug="gone", title="Unpublished piece title")
    unpublish(article=gone, actor=editor, comment="Pause.")
    # An article whose newer live revision the other physician approved is theirs now.
    taken = make_published(slug="taken", title="Originally Hrymoc's")
    _approve_and_publish_new_revision(taken, second_reviewer, editor, title="Now reviewed by Ada")

    main = _main(_html(client.get(reviewer_profile.get_absolute_url())))
    listed = main.split('id="profile-articles-heading"', 1)[1]
    assert "How Couples Therapy Can Address Intimacy Issues" in listed
    assert "Anxiety at night" in listed
    assert "Unreviewed draft title" not in main
    assert "Unpublished piece title" not in main
    assert "Now reviewed by Ada" not in main and "Originally Hrymoc" not in main
    assert len(re.findall(r'<article class="card">', listed)) == 2

    other = _main(_html(client.get(second_reviewer.get_absolute_url())))
    assert "Now reviewed by Ada" in other
    assert "How Couples Therapy" not in other


def test_reviewer_index_lists_visible_reviewers_with_counts(
    client, published_article, reviewer_profile, second_reviewer
):
    make_reviewer_profile(
        make_user("retired", REVIEWER),
        display_name="Retired Doctor",
        credentials="M.D.",
        slug="retired",
        active=False,
    )
    response = client.get(reverse("reviewers:index"))
    assert response.status_code == 200
    main = _main(_html(response))
    assert '<h2><a href="/reviewers/mark-hrymoc/">Mark Hrymoc, M.D.</a></h2>' in main
    assert '<h2><a href="/reviewers/ada-okafor/">Ada Okafor, D.O.</a></h2>' in main
    assert "1 published article reviewed" in main
    assert "0 published articles reviewed" in main
    assert "Retired Doctor" not in main


def test_inactive_reviewer_without_published_reviews_is_404(client, second_reviewer):
    second_reviewer.active = False
    second_reviewer.save()
    assert client.get(second_reviewer.get_absolute_url()).status_code == 404


def test_inactive_reviewer_keeps_a_profile_while_their_reviews_are_live(
    client, published_article, reviewer_profile
):
    reviewer_profile.active = False
    reviewer_profile.save()
    # The byline on the article still links to a working profile…
    article_html = _html(client.get(published_article.get_absolute_url()))
    assert 'href="/reviewers/mark-hrymoc/"' in article_html
    assert client.get(reviewer_profile.get_absolute_url()).status_code == 200
    assert "Mark Hrymoc" in _html(client.get(reverse("reviewers:index")))
    # …and when their user account is deactivated too.
    user = reviewer_profile.user
    user.is_active = False
    user.save()
    assert client.get(reviewer_profile.get_absolute_url()).status_code == 200


def test_unknown_reviewer_is_404(client, db):
    response = client.get(reverse("reviewers:detail", kwargs={"slug": "nobody"}))
    assert response.status_code == 404
    assert "Page not found" in _html(response)


def test_article_byline_links_to_the_reviewer_profile(client, published_article):
    html = _html(client.get(published_article.get_absolute_url()))
    byline = html.split('class="reviewed-by"', 1)[1].split("</p>", 1)[0]
    assert '<a href="/reviewers/mark-hrymoc/">Mark Hrymoc, M.D.</a>' in byline


def test_reviewer_with_no_articles_yet(client, second_reviewer):
    response = client.get(second_reviewer.get_absolute_url())
    assert response.status_code == 200
    assert "No published articles yet." in _html(response)
