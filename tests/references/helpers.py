"""What the reference import tests share: the library's state, the preview's confirm
form as a browser sends it, and files to import."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from django.urls import reverse

from references.models import Reference

IMPORT_URL = reverse("admin:references_reference_import")
CHANGELIST_URL = reverse("admin:references_reference_changelist")


def snapshot() -> list[dict]:
    """Every reference, every field: to prove a refusal changed nothing."""
    return list(Reference.objects.order_by("key").values())


def confirm_fields(response) -> dict[str, str]:
    """The hidden fields of the preview's Confirm form, as a browser would send them."""
    html = response.content.decode()
    fields = {}
    for name in ("confirm", "text", "format", "signature"):
        match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html, re.S)
        assert match, f"no hidden {name} field in the preview"
        fields[name] = unescape(match.group(1))
    return fields


def file_writer(folder: Path, default_name: str):
    """A function that writes text or bytes to a file in `folder` and returns its path."""

    def write(text: str | bytes, name: str = default_name) -> str:
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return write
