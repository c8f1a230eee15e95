"""Driving the admin as a browser does: its URLs, the messages it shows, and the POST data
a loaded page sends back (so a hidden field a template forgot is missing here too)."""

from __future__ import annotations

import re
from html import unescape

from django.contrib.messages import get_messages
from django.db.models.fields.files import FieldFile
from django.urls import reverse

from articles.models import Article, Revision

from .people import PASSWORD

IMPORT_URL = reverse("admin:references_reference_import")
CHANGELIST_URL = reverse("admin:references_reference_changelist")


def messages_of(response) -> list[str]:
    """The messages shown to the user on this (followed) response."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(article: Article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def review_url(revision: Revision) -> str:
    return reverse("admin:articles_revision_change", args=[revision.pk])


def step_url(step: str, revision: Revision) -> str:
    return reverse(f"admin:articles_revision_{step}", args=[revision.pk])


_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def hidden_inputs(html: str) -> dict[str, str]:
    """name → value of every hidden <input> in a page, as a browser would submit them."""
    found = {}
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            found[attrs["name"]] = attrs.get("value", "")
    return found


def article_form_data(response, **changes) -> dict:
    """The POST a browser sends from a loaded article add/change page: every visible field's
    current value plus the hidden inputs the page actually rendered (so a hidden field the
    template forgot to render is missing here too)."""
    form = response.context["adminform"].form
    data = {}
    for name in ("title", "slug", "category", "summary", "body", "hero_image_alt"):
        if name in form.fields:
            value = form[name].value()
            data[name] = "" if value is None else value
    page_hidden = hidden_inputs(response.content.decode())
    if "loaded_version" in page_hidden:
        data["loaded_version"] = page_hidden["loaded_version"]
    data["_save"] = "Save"
    data.update(changes)
    return data


def approve_data(revision: Revision, **changes) -> dict:
    data = {
        "seen_hash": revision.content_hash,
        "attestation": "on",
        "conflict_of_interest": "",
        "comment": "",
        "password": PASSWORD,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def admin_form_data(response, **changes) -> dict:
    """The POST a browser sends from any loaded admin add/change page: each field's current
    value as the page shows it (lists for multiple choices, split date and time parts)."""
    form = response.context["adminform"].form
    data: dict = {}
    for name, bound in form.fields.items():
        if getattr(bound, "disabled", False):
            continue
        value = form[name].value()
        widget = bound.widget
        if (
            isinstance(value, FieldFile)
            or value is None
            and getattr(widget, "input_type", "") == "file"
        ):
            continue  # a browser sends nothing for a file input left alone
        if hasattr(widget, "widgets") and isinstance(value, (list, tuple)):
            for index, part in enumerate(value):
                data[f"{name}_{index}"] = "" if part is None else part
            continue
        if hasattr(widget, "widgets"):
            parts = widget.decompress(value)
            for index, part in enumerate(parts):
                data[f"{name}_{index}"] = "" if part is None else str(part)
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = value
    data.update(hidden_inputs(response.content.decode()))
    data.pop("csrfmiddlewaretoken", None)
    data["_save"] = "Save"
    data.update(changes)
    return data


def confirm_fields(response) -> dict[str, str]:
    """The hidden fields of the reference import preview's Confirm form, as a browser would
    send them."""
    html = response.content.decode()
    fields = {}
    for name in ("confirm", "text", "format", "signature"):
        match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html, re.S)
        assert match, f"no hidden {name} field in the preview"
        fields[name] = unescape(match.group(1))
    return fields
