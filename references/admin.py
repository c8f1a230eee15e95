"""The reference library in the admin, and the two-step import.

Import: upload or paste (BibTeX, RIS, CSL-JSON or PubMed/MEDLINE, told apart by content
or chosen) → preview (nothing written) → confirm. The confirm form carries the very text
that was previewed and the format it was read as, with a signed SHA-256 of the text (and
of what the preview promised), so an edited or forged confirm is refused instead of
importing something nobody saw.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import smart_split, unescape_string_literal

from . import importing
from .identifiers import normalize_doi
from .importing.normalize import csl_language
from .models import KEY_RE, Reference, ReferenceQuerySet

# --- Names, one per line ----------------------------------------------------------------


class NameListField(forms.CharField):
    """CSL names edited as text, one per line, instead of raw JSON.

    "Family, Given" is a person (split at the last comma, so "King, Jr., Martin Luther"
    keeps "King, Jr." as the family name); "Family," is a person known by one name;
    anything else, or anything in braces ("{University of California, Berkeley}"), is an
    organisation written as is.
    """

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "One name per line: “Family, Given” for a person (“Aristotle,” for a single "
            "name), or an organisation as written; braces keep a comma in an organisation’s "
            "name: “{University of California, Berkeley}”.",
        )
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        # A list from the model; a string is the user's own text, redisplayed after an error.
        if isinstance(value, list):
            return "\n".join(
                importing.format_name(name) for name in value if isinstance(name, dict)
            )
        return value

    def to_python(self, value: Any) -> list[dict[str, str]]:  # type: ignore[override]  # a list field on a text widget
        if isinstance(value, list):
            return value
        names = []
        for number, line in enumerate((value or "").splitlines(), start=1):
            line = re.sub(r"\s+", " ", line).strip()
            if not line:
                continue
            if line.startswith("{") and line.endswith("}"):
                names.append({"literal": line[1:-1].strip()})
                continue
            family, comma, given = line.rpartition(",")
            if not comma:
                names.append({"literal": line})
                continue
            family, given = family.strip(), given.strip()
            if not family:
                raise ValidationError(f"Line {number} (“{line}”) has no family name.")
            names.append({"family": family, "given": given} if given else {"family": family})
        return names

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(self.prepare_value(initial)) != self.to_python(data)
        except ValidationError:
            return True


def _validate_key(value: str) -> None:
    # The model's validator message holds a bare "%" that breaks Django's formatting
    # of messages with parameters; this raises the same rule without parameters.
    if not KEY_RE.fullmatch(value or ""):
        raise ValidationError(importing.KEY_RULE, code="invalid")


class ReferenceAdminForm(forms.ModelForm):
    authors = NameListField()
    editors = NameListField()
    translators = NameListField()
    container_authors = NameListField(label="Authors of the book")
    # A scheme-less "example.org/x" is an https address (and keeps Django 6 quiet).
    url = forms.URLField(label="URL", required=False, max_length=1000, assume_scheme="https")

    class Meta:
        model = Reference
        fields = [
            "key", "type", "title", "short_title", "language", "authors", "authors_et_al",
            "editors", "translators", "container_authors",
            "issued_year", "issued_month", "issued_day", "issued_end_year", "original_year",
            "container_title", "collection_title", "volume", "number_of_volumes", "issue",
            "pages", "publisher", "publisher_place", "original_publisher", "edition", "genre",
            "number", "isbn", "doi", "pmid", "url", "accessed", "note",
        ]  # fmt: skip
        widgets = {
            "title": forms.Textarea(attrs={"rows": 2, "cols": 80}),
            "note": forms.Textarea(attrs={"rows": 3, "cols": 80}),
        }

    # When the reference was last saved, as this page loaded it: a save from a page loaded
    # before someone else's save (in the admin or by an import) is refused, not merged.
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "key" in self.fields:
            self.fields["key"].validators.append(_validate_key)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.updated_at.isoformat()

    def clean_language(self) -> str:
        # As the import stores it: empty for English ("English", "eng", "en-US"), which
        # citeproc reads as English only when empty or "en…" (AMA title-cases no other).
        return csl_language(self.cleaned_data.get("language") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if self.instance.pk:
            # Inside the admin's transaction: the row stays locked until the save.
            current = (
                Reference.objects.select_for_update().only("updated_at").get(pk=self.instance.pk)
            )
            if cleaned.get("loaded_version") != current.updated_at.isoformat():
                raise forms.ValidationError(
                    "Someone else saved this reference after you opened it (in the admin or "
                    "by an import), so your changes were not saved. Copy your edits, reload "
                    "the page and apply them again."
                )
        return cleaned


# --- The changelist ---------------------------------------------------------------------


class CitedFilter(admin.SimpleListFilter):
    """Find the references no article cites (candidates for clean-up) and those in use."""

    title = "cited by articles"
    parameter_name = "cited"

    def lookups(self, request, model_admin):
        return [("yes", "Cited"), ("no", "Unused")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(citing_article_count__gt=0)
        if self.value() == "no":
            return queryset.filter(citing_article_count=0)
        return queryset


@admin.register(Reference)
class ReferenceAdmin(admin.ModelAdmin):
    form = ReferenceAdminForm
    # Not "cited_by": that name is the reverse relation from Article, which the admin
    # would find first.
    list_display = ["key", "citation", "type", "issued_year", "doi", "cited_by_count"]
    list_filter = [CitedFilter, "type", "issued_year"]
    # Authors are JSON; get_search_results adds them (see there).
    search_fields = ["key", "title", "doi", "container_title"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": [
            "key", "type", "title", ("short_title", "language"), "loaded_version",
        ]}),
        ("Who and when", {"fields": [
            "authors", "authors_et_al", "editors", "translators", "container_authors",
            ("issued_year", "issued_month", "issued_day"), ("issued_end_year", "original_year"),
        ]}),
        ("Where", {"fields": [
            "container_title", "collection_title", ("volume", "number_of_volumes"),
            ("issue", "pages"),
            ("publisher", "publisher_place"), "original_publisher",
            ("edition", "genre", "number"),
        ]}),
        ("Identifiers", {"fields": ["doi", "pmid", "isbn", "url", "accessed"]}),
        (None, {"fields": ["note", "created_at", "updated_at"]}),
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reference]:
        # The admin's queryset is the model's manager's: a ReferenceQuerySet.
        return cast(ReferenceQuerySet, super().get_queryset(request)).with_citing_article_count()

    @admin.display(description="citation")
    def citation(self, reference: Reference) -> str:
        return reference.short_citation()

    @admin.display(description="cited by", ordering="citing_article_count")
    def cited_by_count(self, reference: Reference) -> str:
        count: int = getattr(reference, "citing_article_count", 0)
        return f"{count} article" if count == 1 else f"{count} articles"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Reference], search_term: str
    ) -> tuple[QuerySet[Reference], bool]:
        """Key, title, journal, DOI (pasted in any form) and author names.

        Authors are a JSON list, searched as text. SQLite stores JSON with non-ASCII
        letters escaped ("\\u00d6"), so the escaped spelling is searched too.
        """
        terms = [
            unescape_string_literal(t) if t[:1] in "\"'" and t[:1] == t[-1:] else t
            for t in smart_split(search_term)
        ]
        if not terms:
            return queryset, False
        queryset = queryset.annotate(authors_text=Cast("authors", TextField()))
        for term in terms:
            escaped = json.dumps(term)[1:-1]
            match = (
                Q(key__icontains=term)
                | Q(title__icontains=term)
                | Q(container_title__icontains=term)
                | Q(doi__icontains=term)
                | Q(authors_text__icontains=term)
                | Q(authors_text__icontains=escaped)
            )
            try:
                doi = normalize_doi(term)
            except ValidationError:
                doi = ""
            if doi:
                match |= Q(doi__iexact=doi)
            queryset = queryset.filter(match)
        return queryset, False

    def save_model(self, request, obj, form, change) -> None:
        # Recorded so the articles citing it know who changed their content.
        obj.edited_by = request.user
        super().save_model(request, obj, form, change)

    # --- Import -------------------------------------------------------------------------

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
        ] + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm(request)
        if request.method == "POST":
            form = ImportUploadForm(request.POST, request.FILES)
            if form.is_valid():
                return self._preview(
                    request, form, form.cleaned_data["source"], form.cleaned_data["format"]
                )
            return self._render(request, {"form": form}, status=400)
        return self._render(request, {"form": ImportUploadForm()})

    def _preview(
        self,
        request: HttpRequest,
        form: forms.Form | None,
        text: str,
        format: str,
        *,
        notice: str = "",
    ) -> HttpResponse:
        try:
            plan = importing.preview(text=text, format=format or None)
        except importing.InputError as error:
            # The file cannot be read at all (invalid JSON, say): nothing to preview.
            form = form or ImportUploadForm()
            form.add_error(None, str(error))
            return self._render(request, {"form": form}, status=400)
        confirm = ImportConfirmForm(
            initial={
                "text": text,
                "format": plan.format,
                "signature": _sign(request, text, plan),
                "update_existing": False,
            }
        )
        return self._render(
            request,
            {
                "plan": plan,
                "confirm_form": confirm,
                "can_update": self.has_change_permission(request),
                "writable_count": len(plan.new) + len(plan.changed),
                "notice": notice,
            },
        )

    def _refuse(self, request: HttpRequest, form: forms.Form, message: str) -> HttpResponse:
        form.add_error(None, message)
        return self._render(request, {"form": ImportUploadForm(), "refused": form}, 400)

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        form = ImportConfirmForm(request.POST)
        if not form.is_valid():
            return self._render(request, {"form": ImportUploadForm(), "refused": form}, 400)
        text = importing.normalize_newlines(form.cleaned_data["text"])
        format = form.cleaned_data["format"]
        update = form.cleaned_data["update_existing"]
        if update and not self.has_change_permission(request):
            raise PermissionDenied
        try:
            signed = signing.loads(
                form.cleaned_data["signature"], salt=_SALT, max_age=_PREVIEW_MAX_AGE
            )
        except signing.SignatureExpired:
            return self._refuse(request, form, "The preview is more than an hour old; preview "
                                               "again.")  # fmt: skip
        except signing.BadSignature:
            return self._refuse(request, form, "The confirmation is not one this site issued; "
                                               "nothing was imported.")  # fmt: skip
        if (
            signed.get("user") != request.user.pk
            or signed.get("sha256") != importing.text_sha256(text)
            or signed.get("format") != format
        ):
            return self._refuse(request, form, "The text to import is not the text that was "
                                               "previewed; nothing was imported.")  # fmt: skip
        try:
            plan = importing.preview(text=text, format=format)
        except importing.InputError as error:
            return self._refuse(request, form, str(error))
        if plan.fingerprint() != signed.get("plan"):
            # Someone changed the library since the preview: show what would happen now.
            return self._preview(
                request,
                None,
                text,
                format,
                notice="The library changed since your preview, so the import would no "
                "longer do what it showed. Nothing was imported; check this new preview.",
            )
        # The admin only lets signed-in staff this far.
        actor = cast(AbstractBaseUser, request.user)
        result = importing.apply_import(plan=plan, update_existing=update, actor=actor)
        if not result.applied:
            for problem in result.errors:
                messages.error(request, problem)
            messages.error(request, "Nothing was imported.")
            return HttpResponseRedirect(request.path)
        summary = (
            f"{plan.format_label} import: {len(result.created)} new, "
            f"{len(result.updated)} updated, {result.unchanged} unchanged"
        )
        if result.not_updated:
            summary += f", {len(result.not_updated)} changed but not updated"
        if result.duplicates:
            summary += f", {result.duplicates} duplicates skipped"
        if result.failed:
            summary += f", {len(result.failed)} failed and skipped"
        messages.success(request, summary + ".")
        return HttpResponseRedirect(reverse("admin:references_reference_changelist"))

    def _render(
        self, request: HttpRequest, context: dict[str, Any], status: int = 200
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import references",
            "max_megabytes": importing.MAX_UPLOAD_BYTES // (1024 * 1024),
            "formats": [reader.label for reader in importing.readers().values()],
            **context,
        }
        return TemplateResponse(
            request, "admin/references/reference/import.html", context, status=status
        )


# The salt predates the other formats; keeping it keeps the confirm forms of previews
# made just before a deploy valid.
_SALT = "references.admin.bibtex-import"
_PREVIEW_MAX_AGE = 60 * 60


def _sign(request: HttpRequest, text: str, plan: importing.ImportPlan) -> str:
    """What the confirm button vouches for: who previewed which text, read as which
    format, with which outcome."""
    return signing.dumps(
        {
            "user": request.user.pk,
            "sha256": importing.text_sha256(text),
            "format": plan.format,
            "plan": plan.fingerprint(),
        },
        salt=_SALT,
        compress=True,
    )


# --- Import forms -----------------------------------------------------------------------


def _format_choices() -> list[tuple[str, str]]:
    return [("", "Tell from the content")] + [
        (reader.name, reader.label) for reader in importing.readers().values()
    ]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        required=False,
        label="File",
        help_text="A .bib, .ris, .json (CSL-JSON) or .nbib (PubMed) file saved as UTF-8, as "
        "EndNote, Zotero, Mendeley, JabRef or PubMed export it.",
    )
    text = forms.CharField(
        required=False,
        strip=False,
        label="…or paste references",
        widget=forms.Textarea(attrs={"rows": 12, "cols": 90, "spellcheck": "false"}),
    )
    format = forms.ChoiceField(
        required=False,
        choices=_format_choices,
        label="Format",
        help_text="Leave it to the site unless it reads the file as the wrong format.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, pasted = data.get("file"), data.get("text") or ""
        if upload and pasted.strip():
            raise ValidationError("Upload a file or paste text, not both.")
        limit = importing.MAX_UPLOAD_BYTES
        too_big = (
            f"That is more than {limit // (1024 * 1024)} MB. Import large files with "
            "“manage.py import_references FILE” instead."
        )
        if upload:
            if upload.size > limit:
                raise ValidationError(too_big)
            try:
                data["source"] = importing.decode_bytes(upload.read())
            except importing.InputError as error:
                raise ValidationError(str(error)) from error
        elif pasted.strip():
            if len(pasted.encode("utf-8")) > limit:
                raise ValidationError(too_big)
            try:
                importing.check_text(pasted)
            except importing.InputError as error:
                raise ValidationError(str(error)) from error
            data["source"] = importing.normalize_newlines(pasted)
        else:
            raise ValidationError(
                "Choose a file or paste references (BibTeX, RIS, CSL-JSON or PubMed)."
            )
        return data


class ImportConfirmForm(forms.Form):
    confirm = forms.CharField(widget=forms.HiddenInput, initial="1")
    text = forms.CharField(widget=forms.HiddenInput, strip=False)
    # The format the preview read the text as, so the confirm reads it the same way.
    format = forms.CharField(widget=forms.HiddenInput, required=False)
    signature = forms.CharField(widget=forms.HiddenInput)
    update_existing = forms.BooleanField(
        required=False,
        label="Also update the changed entries",
        help_text="Without this, references already in the library are left as they are.",
    )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if len(text.encode("utf-8")) > importing.MAX_UPLOAD_BYTES:
            raise ValidationError("The text is larger than the import limit.")
        return text

    def clean_format(self) -> str:
        format = self.cleaned_data["format"] or "bibtex"
        if format not in importing.readers():
            raise ValidationError("Unknown format.")
        return format
