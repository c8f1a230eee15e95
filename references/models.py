"""The reference library: structured works, shaped like CSL-JSON so citeproc can format them."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from .identifiers import normalize_doi, normalize_pmid

# Pandoc's citation key grammar: starts with a letter, digit or underscore; may contain
# internal punctuation. A key never ends in punctuation, so "[@smith2019.]" works. Letters
# and digits are any script's, as in pandoc (`@müller2020`, which BibTeX exports carry):
# \w in a str pattern is Unicode.
CITATION_KEY_PATTERN = r"\w(?:[\w:.#$%&+?<>~/-]*\w)?"
citation_key_validator = RegexValidator(
    rf"^{CITATION_KEY_PATTERN}$",
    # %% because Django formats validator messages with the offending value.
    "A citation key starts and ends with a letter, digit or underscore and may contain "
    "the punctuation : . # $ %% & + ? < > ~ / - inside.",
)


def family_and_suffix(family: str) -> tuple[str, str]:
    """A family name as the library keeps it, and its suffix: "King, Jr." → ("King", "Jr.").

    The library keeps a suffix after a comma in the family name, as BibTeX writes it
    ("King, Jr., Martin Luther") and as the admin edits names; CSL has a field of its own
    for it, which citeproc prints where each style wants ("King, M. L., Jr." in APA,
    "King ML Jr" in AMA, left out of in-text citations). A name with no comma, or nothing
    on one side of it, has no suffix.
    """
    name, comma, suffix = family.partition(",")
    name, suffix = name.strip(), suffix.strip()
    if not comma or not name or not suffix:
        return family, ""
    return name, suffix


# The library's lists of names and the CSL variable each one is: one home for the list, which
# the CSL conversion, the import, the admin and the revision diff read. Authors come first.
NAME_FIELDS = {
    "authors": "author",
    "editors": "editor",
    "translators": "translator",
    "container_authors": "container-author",
}


class ReferenceType(models.TextChoices):
    """CSL item types the importer produces."""

    ARTICLE_JOURNAL = "article-journal", "Journal article"
    ARTICLE_MAGAZINE = "article-magazine", "Magazine article"
    ARTICLE_NEWSPAPER = "article-newspaper", "Newspaper article"
    BOOK = "book", "Book"
    CHAPTER = "chapter", "Book chapter"
    PAPER_CONFERENCE = "paper-conference", "Conference paper"
    ENTRY_ENCYCLOPEDIA = "entry-encyclopedia", "Encyclopedia entry"
    REPORT = "report", "Report"
    THESIS = "thesis", "Thesis"
    PATENT = "patent", "Patent"
    WEBPAGE = "webpage", "Web page"
    DATASET = "dataset", "Data set"
    SOFTWARE = "software", "Software"
    MANUSCRIPT = "manuscript", "Manuscript"
    DOCUMENT = "document", "Other document"


class ReferenceQuerySet(models.QuerySet):
    def with_citing_article_count(self) -> ReferenceQuerySet:
        return self.annotate(citing_article_count=models.Count("cited_by", distinct=True))


class Reference(models.Model):
    key = models.CharField(
        "citation key",
        max_length=120,
        unique=True,
        validators=[citation_key_validator],
        help_text="Cite it in an article as [@key].",
    )
    type = models.CharField(
        max_length=32, choices=ReferenceType.choices, default=ReferenceType.ARTICLE_JOURNAL
    )
    # Ordered names: [{"family": "Parker", "given": "S. J."}] or [{"literal": "WHO"}].
    authors = models.JSONField(default=list, blank=True)
    editors = models.JSONField(default=list, blank=True)
    authors_et_al = models.BooleanField(
        "author list continues (et al.)",
        default=False,
        help_text="The source names only the first authors (BibTeX “and others”).",
    )
    issued_year = models.PositiveSmallIntegerField("year", null=True, blank=True)
    issued_month = models.PositiveSmallIntegerField("month", null=True, blank=True)
    issued_day = models.PositiveSmallIntegerField("day", null=True, blank=True)
    # A work published over several years (a multivolume set: 1984–1986).
    issued_end_year = models.PositiveSmallIntegerField(
        "to year",
        null=True,
        blank=True,
        help_text="For a work published over several years: the last year (1984–1986).",
    )
    original_year = models.PositiveSmallIntegerField(
        "originally published",
        null=True,
        blank=True,
        help_text="A reprint's or translation's first year (APA: “Original work published…”).",
    )
    original_publisher = models.CharField(
        "original publisher", max_length=300, blank=True, help_text="A reprint's first publisher."
    )
    translators = models.JSONField(default=list, blank=True)
    # The author of the book a chapter or part is in, when not the part's own editors.
    container_authors = models.JSONField("authors of the book", default=list, blank=True)
    title = models.TextField()
    short_title = models.CharField(
        "short title",
        max_length=300,
        blank=True,
        help_text="APA cites a work without an author by its title in the text: a short "
        "form of a long one (“Chicago Manual of Style”).",
    )
    language = models.CharField(
        max_length=40,
        blank=True,
        help_text="Empty for English. Another language's titles keep their own capitals "
        "(AMA title-cases English titles only).",
    )
    container_title = models.CharField("journal / book / site", max_length=500, blank=True)
    collection_title = models.CharField("series", max_length=500, blank=True)
    volume = models.CharField(max_length=40, blank=True)
    issue = models.CharField(max_length=40, blank=True)
    pages = models.CharField(max_length=60, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    publisher_place = models.CharField(max_length=300, blank=True)
    edition = models.CharField(max_length=40, blank=True)
    number_of_volumes = models.CharField(
        "volumes", max_length=20, blank=True, help_text="How many volumes a multivolume work has."
    )
    genre = models.CharField(
        max_length=200, blank=True, help_text="Thesis or report kind, e.g. “PhD thesis”."
    )
    number = models.CharField(max_length=80, blank=True, help_text="Report or patent number.")
    isbn = models.CharField("ISBN", max_length=40, blank=True)
    doi = models.CharField("DOI", max_length=300, blank=True, db_index=True)
    pmid = models.CharField("PMID", max_length=12, blank=True)
    url = models.URLField("URL", max_length=1000, blank=True)
    accessed = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who saved it last, set by every writer (the admin, the import): a change to a cited
    # reference is a change to the articles citing it, and its author may not approve them.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        constraints = [
            # DOIs are case-insensitive: 10.1000/ABC and 10.1000/abc are one work.
            models.UniqueConstraint(
                Lower("doi"),
                condition=~models.Q(doi=""),
                name="reference_unique_doi",
                violation_error_message="Another reference already has this DOI.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.short_citation()}"

    def clean(self) -> None:
        errors = {}
        for field, normalize in (("doi", normalize_doi), ("pmid", normalize_pmid)):
            try:
                setattr(self, field, normalize(getattr(self, field)))
            except ValidationError as error:
                errors[field] = error.messages
        for year_field in ("issued_year", "issued_end_year", "original_year"):
            # 0 is never cited (a range from it would print "n.d."), and the import reads no
            # year past 9999: neither is a year the library keeps.
            year = getattr(self, year_field)
            if year is not None and not 1 <= year <= 9999:
                errors[year_field] = ["A year is a number from 1 to 9999."]
        if self.issued_month is not None and not 1 <= self.issued_month <= 12:
            errors["issued_month"] = ["A month is a number from 1 to 12."]
        if self.issued_day is not None and not 1 <= self.issued_day <= 31:
            errors["issued_day"] = ["A day is a number from 1 to 31."]
        if self.issued_end_year is not None and (
            not self.issued_year or self.issued_end_year < self.issued_year
        ):
            errors["issued_end_year"] = [
                "The last year of a range comes with a first year, and not before it."
            ]
        if errors:
            raise ValidationError(errors)

    def short_citation(self) -> str:
        names = [
            family_and_suffix(a.get("family") or "")[0] or a.get("literal", "")
            for a in self.authors
        ]
        if not names:
            who = self.title[:40]
        elif len(names) > 2 or self.authors_et_al:
            who = f"{names[0]} et al."
        else:
            who = " & ".join(names)
        return f"{who}, {self.issued_year or 'n.d.'}"

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    def to_csl(self) -> dict:
        """This reference as a CSL-JSON item, the form revisions freeze and citeproc reads."""
        item: dict = {"id": self.key, "type": self.type, "title": self.title}
        for field, variable in NAME_FIELDS.items():
            names = getattr(self, field)
            if names:
                item[variable] = [dict(name) for name in names]
        if self.authors_et_al:
            item["x-et-al"] = True
        if self.issued_year:
            parts = [self.issued_year]
            if self.issued_month:
                parts.append(self.issued_month)
                if self.issued_day:
                    parts.append(self.issued_day)
            if self.issued_end_year and self.issued_end_year != self.issued_year:
                # A range: CSL gives both ends the same parts, so years only.
                item["issued"] = {"date-parts": [[self.issued_year], [self.issued_end_year]]}
            else:
                item["issued"] = {"date-parts": [parts]}
        if self.original_year:
            item["original-date"] = {"date-parts": [[self.original_year]]}
        if self.accessed:
            a = self.accessed
            item["accessed"] = {"date-parts": [[a.year, a.month, a.day]]}
        for field, csl in _CSL_TEXT_FIELDS:
            value = getattr(self, field)
            if value:
                item[csl] = value
        return item


_CSL_TEXT_FIELDS = (
    ("container_title", "container-title"),
    ("collection_title", "collection-title"),
    ("volume", "volume"),
    ("issue", "issue"),
    ("pages", "page"),
    ("publisher", "publisher"),
    ("publisher_place", "publisher-place"),
    ("edition", "edition"),
    ("number_of_volumes", "number-of-volumes"),
    ("original_publisher", "original-publisher"),
    ("short_title", "title-short"),
    ("language", "language"),
    ("genre", "genre"),
    ("number", "number"),
    ("isbn", "ISBN"),
    ("doi", "DOI"),
    ("pmid", "PMID"),
    ("url", "URL"),
    ("note", "note"),
)

CSL_FIELD_NAMES = dict(_CSL_TEXT_FIELDS)

KEY_RE = re.compile(CITATION_KEY_PATTERN)
