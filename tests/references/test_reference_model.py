"""The Reference model's own rules: key syntax, DOI uniqueness, identifier normalization."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from references.models import Reference


@pytest.mark.django_db
def test_an_invalid_key_is_refused_with_a_readable_message():
    reference = Reference(key="bad key!", title="A title")
    with pytest.raises(ValidationError) as refusal:
        reference.full_clean()
    message = " ".join(refusal.value.message_dict["key"])
    assert "starts and ends with a letter, digit or underscore" in message
    assert "$ % &" in message
    assert Reference.objects.count() == 0


@pytest.mark.django_db
def test_the_same_doi_in_another_case_is_one_work():
    Reference.objects.create(key="first", title="One", doi="10.1000/ABC")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reference.objects.create(key="second", title="Two", doi="10.1000/abc")
    assert list(Reference.objects.values_list("key", flat=True)) == ["first"]


@pytest.mark.django_db
def test_clean_stores_identifiers_in_canonical_form():
    reference = Reference(
        key="parker2019",
        title="T",
        doi="https://doi.org/10.1080/00224499.2019.1",
        pmid="PMID: 0123",
    )
    reference.full_clean()
    assert (reference.doi, reference.pmid) == ("10.1080/00224499.2019.1", "123")
    assert reference.to_csl()["DOI"] == "10.1080/00224499.2019.1"
