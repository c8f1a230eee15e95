"""`manage.py import_bibtex FILE`: `import_references` reading BibTeX unless `--format`
says otherwise (the command's name from before the import read other formats)."""

from __future__ import annotations

from .import_references import Command as ImportReferences


class Command(ImportReferences):
    help = "Import references from a BibTeX/biblatex file (UTF-8); see import_references."
    default_format = "bibtex"
