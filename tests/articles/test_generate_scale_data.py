"""`manage.py generate_scale_data`: what it refuses, and that what it writes is what the
workflow would have left (so the benchmark at 100,000 articles measures a real site)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from articles.models import Article, Revision, RevisionStatus
from articles.snapshot import content_hash
from references.models import Reference
from tests.builders import make_superuser


@pytest.fixture(autouse=True)
def _no_stored_pages():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


def generate(articles: int, references: int = 40) -> None:
    call_command(
        "generate_scale_data",
        articles=articles,
        references=references,
        reviewers=3,
        authors=4,
        batch=7,
        i_know=True,
        stdout=open("/dev/null", "w"),  # noqa: SIM115 - the command's progress lines
    )
    connection.check_constraints()  # the deferred foreign keys all hold


# --- The generator --------------------------------------------------------------------------


@pytest.mark.django_db
def test_generator_refuses_with_debug_off_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--i-know"):
        call_command("generate_scale_data", articles=3, references=3)
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_generator_refuses_a_database_with_content(settings, make_reference):
    settings.DEBUG = True
    make_reference("parker2019")
    with pytest.raises(CommandError, match="1 references"):
        call_command("generate_scale_data", articles=3, references=3)
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_generator_refuses_a_database_with_user_accounts_even_when_told(settings):
    make_superuser()
    with pytest.raises(CommandError, match="1 user accounts"):
        call_command("generate_scale_data", articles=3, references=3, i_know=True)
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_generator_refuses_to_run_twice():
    generate(3)
    with pytest.raises(CommandError, match="already holds"):
        generate(3)
    assert Article.objects.count() == 3


@pytest.mark.django_db
def test_generated_articles_are_what_the_workflow_leaves(client):
    generate(30)
    assert Article.objects.published().count() == 30
    assert Reference.objects.count() == 40
    for article in Article.objects.published().select_related("live_revision__approval"):
        revision = article.live_revision
        review = revision.approval
        assert revision.status == RevisionStatus.PUBLISHED
        assert review.revision_id == revision.pk and review.decision == "approve"
        assert review.revision_hash == revision.content_hash == article.working_hash
        category = revision.category
        assert revision.content_hash == content_hash(
            title=revision.title,
            summary=revision.summary,
            body=revision.body,
            references=revision.references_csl,
            category={"id": category.pk, "name": category.name},
            author_name=revision.author_name,
        )
        assert set(article.cited_references.values_list("key", flat=True)) == {
            item["id"] for item in revision.references_csl
        }
        assert list(revision.contributors.values_list("pk", flat=True)) == [article.author_id]
    # The generated physicians cannot log in.
    assert not any(user.has_usable_password() for user in User.objects.all())
    first = Article.objects.published().first()
    assert client.get(first.get_absolute_url()).status_code == 200
    assert client.get(reverse("articles:home")).status_code == 200


@pytest.mark.django_db
def test_generated_revisions_stay_frozen_in_the_database():
    generate(3)
    revision = Revision.objects.first()
    # Refused by the frozen-content trigger, or before it by the app role's privileges.
    with (
        pytest.raises(Exception, match="immutable|permission denied"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE articles_revision SET title = 'changed' WHERE id = %s", [revision.pk]
        )


@pytest.mark.django_db
def test_generated_articles_are_found_by_search(client):
    generate(12)
    title_word = Article.objects.published().first().live_revision.title.split()[-1]
    response = client.get(reverse("articles:search"), {"q": title_word})
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count >= 1
