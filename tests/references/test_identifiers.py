"""DOIs and PubMed IDs are stored in one canonical form, whatever shape people paste."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from references.identifiers import normalize_doi, normalize_pmid


@pytest.mark.parametrize(
    "value",
    [
        "10.1080/00224499.2019.1565234",
        "https://doi.org/10.1080/00224499.2019.1565234",
        "http://dx.doi.org/10.1080/00224499.2019.1565234",
        "doi.org/10.1080/00224499.2019.1565234",
        "doi:10.1080/00224499.2019.1565234",
        "DOI: 10.1080/00224499.2019.1565234",
        "  10.1080/00224499.2019.1565234.  ",
    ],
)
def test_doi_forms_normalize_to_the_bare_doi(value):
    assert normalize_doi(value) == "10.1080/00224499.2019.1565234"


def test_doi_percent_encoding_is_undone():
    assert normalize_doi("https://doi.org/10.1002/%28SICI%291096-987X") == (
        "10.1002/(SICI)1096-987X"
    )


def test_doi_with_angle_brackets_is_kept_verbatim():
    doi = "10.1002/(SICI)1096-987X(199803)19:4<377::AID-JCC1>3.0.CO;2-P"
    assert normalize_doi(doi) == doi


def test_empty_doi_stays_empty():
    assert normalize_doi("") == ""
    assert normalize_doi("   ") == ""


@pytest.mark.parametrize("value", ["nonsense", "11.1000/x", "10.12/short-registrant", "10.1000"])
def test_invalid_doi_is_refused_with_a_message(value):
    with pytest.raises(ValidationError) as info:
        normalize_doi(value)
    assert "is not a DOI" in info.value.messages[0]
    assert value in info.value.messages[0]


@pytest.mark.parametrize(
    "value",
    [
        "31234567",
        "PMID: 31234567",
        "pmid:31234567",
        "https://pubmed.ncbi.nlm.nih.gov/31234567/",
        " 031234567 ",
    ],
)
def test_pmid_forms_normalize_to_digits(value):
    assert normalize_pmid(value) == "31234567"


def test_empty_pmid_stays_empty():
    assert normalize_pmid("") == ""


@pytest.mark.parametrize("value", ["12a45", "1234567890", "PMC1234567"])
def test_invalid_pmid_is_refused_with_a_message(value):
    with pytest.raises(ValidationError) as info:
        normalize_pmid(value)
    assert "is not a PubMed ID" in info.value.messages[0]
