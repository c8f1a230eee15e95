"""Normalization and validation of DOIs and PubMed IDs.

People paste identifiers in many shapes (`https://doi.org/10.…`, `doi:10.…`, `PMID: 123`);
the library stores one canonical form so duplicates are found and links are right.
"""

import re
from urllib.parse import unquote

from django.core.exceptions import ValidationError

_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi\.org/|doi:\s*)", re.IGNORECASE)
# Crossref's recommended pattern for modern DOIs: 10.NNNN(.NNNN)*/suffix.
_DOI = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
_PMID_PREFIX = re.compile(r"^(?:pmid:?\s*|https?://pubmed\.ncbi\.nlm\.nih\.gov/)", re.IGNORECASE)


def normalize_doi(value: str) -> str:
    """Return the bare DOI (`10.…`), or raise ValidationError naming what is wrong."""
    doi = unquote(_DOI_PREFIXES.sub("", value.strip())).strip().rstrip(".")
    if not doi:
        return ""
    if not _DOI.match(doi):
        raise ValidationError(
            f"“{value}” is not a DOI: a DOI starts with 10., a registrant code and a slash "
            "(for example 10.1080/00224499.2019.1565234)."
        )
    return doi


def normalize_pmid(value: str) -> str:
    """Return the PubMed ID as digits, or raise ValidationError naming what is wrong."""
    pmid = _PMID_PREFIX.sub("", value.strip()).strip().rstrip("/")
    if not pmid:
        return ""
    if not pmid.isdigit() or len(pmid) > 9:
        raise ValidationError(f"“{value}” is not a PubMed ID: a PMID is a number of 1 to 9 digits.")
    return pmid.lstrip("0") or "0"
