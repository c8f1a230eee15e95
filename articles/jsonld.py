"""Schema.org JSON-LD for public pages: only what the page itself shows.

`MedicalWebPage` for an article (reviewedBy, lastReviewed, author, publisher, citation),
`Person` for a reviewer's profile. `Physician` is not used for people: in schema.org it is
a kind of organization (a medical practice), not an individual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from reviewers.models import Reviewer

from .models import Article, Review, Revision

SCHEMA = "https://schema.org"

# Inside <script> the only dangerous characters are the ones that can close it or open a
# comment / CDATA section; escaping <, > and & as JSON unicode escapes keeps the data intact.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def to_script_json(data: Mapping[str, Any]) -> SafeString:
    """Serialize for `<script type="application/ld+json">`: nothing in it can end the script."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.translate(_SCRIPT_ESCAPES)
    # U+2028 / U+2029 are valid JSON but old JavaScript parsers choke on them.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return mark_safe(text)  # noqa: S308 - every markup character is escaped above


def absolute_url(path: str) -> str:
    """An absolute URL on the canonical site (SITE_URL) for a path; absolute URLs pass through."""
    if not path:
        return ""
    if path.startswith(("http://", "https://")):
        return path
    if path.startswith("//"):
        return "https:" + path
    return settings.SITE_URL + (path if path.startswith("/") else "/" + path)


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def iso_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).date().isoformat()


def clinic_organization() -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "Organization", "name": settings.CLINIC_NAME}
    if settings.CLINIC_URL:
        org["url"] = settings.CLINIC_URL
    if settings.CLINIC_PHONE:
        org["telephone"] = settings.CLINIC_PHONE
    if settings.CLINIC_LOCATION:
        org["address"] = {"@type": "PostalAddress", "addressLocality": settings.CLINIC_LOCATION}
    return org


def _split_credentials(credentials: str) -> list[str]:
    return [part.strip() for part in credentials.split(",") if part.strip()]


def _credential(category: str, name: str) -> dict[str, str]:
    return {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": category,
        "name": name,
    }


def reviewer_person(
    *,
    name: str,
    credentials: str,
    job_title: str,
    certifications: Iterable[str],
    specialties: Iterable[str],
    profile_url: str,
) -> dict[str, Any]:
    """A reviewer as a schema.org Person. On an article every part is the review's card as
    signed; on a profile page, the profile as it is."""
    person: dict[str, Any] = {"@type": "Person", "name": name}
    if credentials:
        person["honorificSuffix"] = credentials
    if job_title:
        person["jobTitle"] = job_title
    earned = [_credential("degree", degree) for degree in _split_credentials(credentials)]
    earned += [_credential("certification", cert) for cert in certifications]
    if earned:
        person["hasCredential"] = earned
    specialties = list(specialties)
    if specialties:
        person["knowsAbout"] = specialties
    person["worksFor"] = clinic_organization()
    person["url"] = absolute_url(profile_url)
    return person


def signed_reviewer(review: Review) -> dict[str, Any]:
    """The reviewer of an article, exactly as the review recorded them at signing."""
    return reviewer_person(
        name=review.reviewer_name,
        credentials=review.reviewer_credentials,
        job_title=review.reviewer_title,
        certifications=review.certification_list(),
        specialties=review.specialty_list(),
        profile_url=review.reviewer.get_absolute_url(),
    )


def _csl_person(name: Mapping[str, Any]) -> dict[str, str] | None:
    if name.get("literal"):
        return {"@type": "Organization", "name": str(name["literal"])}
    full = " ".join(str(name[part]) for part in ("given", "family") if name.get(part))
    return {"@type": "Person", "name": full} if full else None


def _csl_year(item: Mapping[str, Any]) -> str | None:
    try:
        year = item["issued"]["date-parts"][0][0]
    except (KeyError, IndexError, TypeError):
        return None
    return str(year) if year else None


def citation(item: Mapping[str, Any]) -> dict[str, Any]:
    """One CSL-JSON reference as a CreativeWork (ScholarlyArticle for journal articles)."""
    kind = "ScholarlyArticle" if item.get("type") == "article-journal" else "CreativeWork"
    work: dict[str, Any] = {"@type": kind, "name": str(item.get("title", ""))}
    authors = [p for p in (_csl_person(a) for a in item.get("author", [])) if p]
    if authors:
        work["author"] = authors
    year = _csl_year(item)
    if year:
        work["datePublished"] = year
    if item.get("container-title"):
        work["isPartOf"] = {"@type": "Periodical", "name": str(item["container-title"])}
        if kind == "CreativeWork":
            work["isPartOf"]["@type"] = "CreativeWork"
    doi = item.get("DOI")
    if doi:
        work["identifier"] = "https://doi.org/" + quote(str(doi), safe="/:;()._-")
    pmid = str(item.get("PMID", "")).strip()
    if pmid.isdigit():
        work["sameAs"] = f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    url = str(item.get("URL", ""))
    if url.lower().startswith(("http://", "https://")):
        work["url"] = url
    return work


def article_page(
    *,
    article: Article,
    revision: Revision,
    review: Review,
    url: str,
    image_url: str = "",
) -> dict[str, Any]:
    """The `MedicalWebPage` for an article on its live revision."""
    author_name = revision.author_name
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "MedicalWebPage",
        "headline": revision.title,
        "name": revision.title,
        "description": revision.summary,
        "url": url,
        "inLanguage": "en",
        "datePublished": iso_datetime(article.first_published_at or revision.published_at),
        "dateModified": iso_datetime(revision.published_at),
        "lastReviewed": iso_date(review.created_at),
        "reviewedBy": signed_reviewer(review),
        "author": (
            {"@type": "Person", "name": author_name} if author_name else clinic_organization()
        ),
        "publisher": clinic_organization(),
    }
    if image_url:
        data["image"] = image_url
    citations = _citations(revision.references_csl)
    if citations:
        data["citation"] = citations
    return data


def _citations(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [citation(item) for item in items or [] if isinstance(item, Mapping)]


def reviewer_profile(reviewer: Reviewer, *, image_url: str = "") -> dict[str, Any]:
    person = reviewer_person(
        name=reviewer.display_name,
        credentials=reviewer.credentials,
        job_title=reviewer.title,
        certifications=reviewer.certification_list(),
        specialties=reviewer.specialty_list(),
        profile_url=reviewer.get_absolute_url(),
    )
    data = {"@context": SCHEMA, **person}
    if reviewer.bio:
        data["description"] = reviewer.bio
    if image_url:
        data["image"] = image_url
    return data
