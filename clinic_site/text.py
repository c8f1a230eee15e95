"""Text hygiene at the boundary: what a person types carries no control characters.

Tab and newline are kept; every other C0 and C1 control character, and the Unicode
non-characters, are removed where text enters (every admin form field for text, every
workflow form), so titles and summaries cannot break the feeds' XML or hide text.
The feeds also strip them on the way out, for anything stored before this rule.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django import forms

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def strip_controls(value: str) -> str:
    """The text without control characters other than tab and newline (CR becomes LF)."""
    return _CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


class CleanCharField(forms.CharField):
    """A CharField whose value never holds control characters other than tab and newline."""

    def to_python(self, value):
        value = super().to_python(value)
        return strip_controls(value) if isinstance(value, str) else value


def clean_text_input(field: forms.Field) -> forms.Field:
    """Make any text form field (slug, e-mail, URL and Markdown fields included) drop
    control characters from what it receives, before its own validation."""
    if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
        parse = field.to_python

        def to_python(value, parse=parse):
            value = parse(value)
            return strip_controls(value) if isinstance(value, str) else value

        # This one field instance's parser, whatever its class: a per-instance override is
        # the point here, and mypy refuses assigning to a method on principle.
        field.to_python = to_python  # type: ignore[method-assign]
    return field


if TYPE_CHECKING:
    from django.contrib import admin

    # What the mixin is mixed into, so its super() call is checked against ModelAdmin.
    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


class CleanTextAdminMixin(_ModelAdmin):
    """For a ModelAdmin: every text column's form field cleans its input."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        return clean_text_input(field) if field is not None else None
