"""JSON-LD: a MedicalWebPage on articles and a Person on reviewer profiles, parseable by
`json.loads`, carrying what the page shows, and impossible to break out of."""

from __future__ import annotations

import json
import re

from django.utils import timezone

from articles.jsonld import citation, to_script_json
from articles.models import Article

SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _jsonld(response) -> dict:
    blocks = SCRIPT.findall(response.content.decode())
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_article_medical_web_page(client, published_article, settings):
    data = _jsonld(client.get(published_article.get_absolute_url()))
    revision = published_article.live_revision
    review = revision.approval
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "MedicalWebPage"
    assert data["headline"] == "How Couples Therapy Can Address Intimacy Issues"
    assert data["description"] == "Couples therapy and sex therapy help partners rebuild closeness."
    assert data["url"] == "http://127.0.0.1:8000/articles/couples-therapy-intimacy/"
    assert data["datePublished"] == timezone.localtime(
        Article.objects.get(pk=published_article.pk).first_published_at
    ).isoformat(timespec="seconds")
    assert data["dateModified"] == timezone.localtime(revision.published_at).isoformat(
        timespec="seconds"
    )
    assert data["lastReviewed"] == timezone.localtime(review.created_at).date().isoformat()
    assert data["author"] == {"@type": "Person", "name": "Wendy Writer"}
    assert data["publisher"]["@type"] == "Organization"
    assert data["publisher"]["name"] == settings.CLINIC_NAME
    assert data["publisher"]["telephone"] == settings.CLINIC_PHONE


def test_article_reviewed_by_is_a_person_with_credentials(client, published_article):
    reviewer = _jsonld(client.get(published_article.get_absolute_url()))["reviewedBy"]
    assert reviewer["@type"] == "Person"
    assert reviewer["name"] == "Mark Hrymoc"
    assert reviewer["honorificSuffix"] == "M.D."
    assert reviewer["jobTitle"] == "Chief Medical Officer"
    assert reviewer["hasCredential"] == [
        {
            "@type": "EducationalOccupationalCredential",
            "credentialCategory": "degree",
            "name": "M.D.",
        },
        {
            "@type": "EducationalOccupationalCredential",
            "credentialCategory": "certification",
            "name": "General Psychiatry",
        },
        {
            "@type": "EducationalOccupationalCredential",
            "credentialCategory": "certification",
            "name": "Addiction Psychiatry",
        },
    ]
    assert reviewer["knowsAbout"] == ["Couples therapy", "Addiction medicine"]
    assert reviewer["worksFor"]["@type"] == "Organization"
    assert reviewer["url"] == "http://127.0.0.1:8000/reviewers/mark-hrymoc/"


def test_reviewed_by_uses_the_signed_snapshot(client, published_article, reviewer_profile):
    reviewer_profile.display_name = "Mark A. Hrymoc"
    reviewer_profile.credentials = "M.D., Ph.D."
    reviewer_profile.save()
    response = client.get(published_article.get_absolute_url())
    person = _jsonld(response)["reviewedBy"]
    assert person["name"] == "Mark Hrymoc"  # as signed
    assert person["honorificSuffix"] == "M.D."
    assert 'Medically reviewed by <a href="/reviewers/mark-hrymoc/">Mark Hrymoc, M.D.</a>' in (
        response.content.decode()
    )


def test_article_citations_one_per_reference(client, published_article):
    citations = _jsonld(client.get(published_article.get_absolute_url()))["citation"]
    assert len(citations) == len(published_article.live_revision.references_csl) == 2
    by_name = {c["name"]: c for c in citations}
    parker = by_name["Emotional intimacy as the foundation of sexual satisfaction"]
    assert parker["@type"] == "ScholarlyArticle"
    assert parker["author"] == [
        {"@type": "Person", "name": "S. J. Parker"},
        {"@type": "Person", "name": "K. Lee"},
    ]
    assert parker["datePublished"] == "2019"
    assert parker["identifier"] == "https://doi.org/10.1000/parker2019"
    assert parker["sameAs"].startswith("https://pubmed.ncbi.nlm.nih.gov/")


def test_article_without_references_has_no_citation(client, make_published):
    article = make_published(slug="no-refs", body="## A\n\nNo sources.")
    assert "citation" not in _jsonld(client.get(article.get_absolute_url()))


def test_article_image_only_with_a_hero(client, published_article, make_published, stored_picture):
    assert "image" not in _jsonld(client.get(published_article.get_absolute_url()))
    hero = stored_picture("a.jpg").file.name
    pictured = make_published(hero_image=hero, hero_image_alt="A picture")
    data = _jsonld(client.get(pictured.get_absolute_url()))
    assert data["image"] == f"http://127.0.0.1:8000/media/{hero}"


def test_author_without_a_name_is_the_clinic(client, make_published, writer, settings):
    writer.first_name = writer.last_name = ""
    writer.save()
    article = make_published(slug="no-byline")
    response = client.get(article.get_absolute_url())
    assert _jsonld(response)["author"]["name"] == settings.CLINIC_NAME
    assert f"Written by the {settings.CLINIC_NAME} editorial team" in response.content.decode()


def test_script_breaking_text_is_escaped_and_round_trips(client, make_published):
    title = "Fear </script><script>alert(1)</script> & <!-- panic -->"
    article = make_published(slug="hostile", title=title, summary="A & B <b>c</b>")
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "<!-- panic" not in html
    block = SCRIPT.findall(html)[0]
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.loads(block)
    assert data["headline"] == title
    assert data["description"] == "A & B <b>c</b>"


def test_to_script_json_escapes_markup_characters():
    out = str(to_script_json({"a": "</script>&\u2028"}))
    assert out == '{"a":"\\u003c/script\\u003e\\u0026\\u2028"}'
    assert json.loads(out) == {"a": "</script>&\u2028"}


def test_citation_of_other_kinds_of_works():
    book = citation(
        {
            "id": "who2020",
            "type": "book",
            "title": "Mental health atlas",
            "author": [{"literal": "World Health Organization"}],
            "issued": {"date-parts": [[2020]]},
            "URL": "https://www.who.int/atlas",
            "PMID": "not-a-number",
        }
    )
    assert book == {
        "@type": "CreativeWork",
        "name": "Mental health atlas",
        "author": [{"@type": "Organization", "name": "World Health Organization"}],
        "datePublished": "2020",
        "url": "https://www.who.int/atlas",
    }
    bare = citation({"id": "x", "type": "article-journal", "title": "T", "URL": "javascript:x"})
    assert bare == {"@type": "ScholarlyArticle", "name": "T"}


def test_reviewer_profile_person(client, published_article, reviewer_profile):
    reviewer_profile.bio = "Dr. Hrymoc leads our medical team."
    reviewer_profile.save()
    data = _jsonld(client.get(reviewer_profile.get_absolute_url()))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Person"  # not Physician: that is an organization in schema.org
    assert data["name"] == "Mark Hrymoc"
    assert data["honorificSuffix"] == "M.D."
    assert data["jobTitle"] == "Chief Medical Officer"
    assert data["description"] == "Dr. Hrymoc leads our medical team."
    assert [c["credentialCategory"] for c in data["hasCredential"]] == [
        "degree",
        "certification",
        "certification",
    ]
    assert data["knowsAbout"] == ["Couples therapy", "Addiction medicine"]
    assert data["url"] == "http://127.0.0.1:8000/reviewers/mark-hrymoc/"
    assert data["worksFor"]["name"]


def test_preview_has_no_structured_data(client, writer, published_article):
    client.force_login(writer)
    response = client.get(published_article.live_revision.preview_url())
    assert response.status_code == 200
    assert not SCRIPT.findall(response.content.decode())
