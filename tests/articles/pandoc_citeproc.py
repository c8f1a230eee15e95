"""pandoc --citeproc as a Pandoc, Quarto or Zotero user runs it: the yardstick the
project's renderer is compared with (the same pinned binary and CSL files, no filter)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping

from articles.pandoc import pandoc_binary, style_path


def pandoc_citeproc(body: str, *, style: str, items: Iterable[Mapping]) -> str:
    """`body` through `pandoc --citeproc` with `items` (CSL-JSON) as the bibliography."""
    with tempfile.TemporaryDirectory(prefix="clinic-parity-") as folder:
        bibliography = os.path.join(folder, "references.json")
        with open(bibliography, "w", encoding="utf-8") as handle:
            json.dump(list(items), handle)
        done = subprocess.run(  # noqa: S603 - our pinned binary
            [
                pandoc_binary(),
                "--from=markdown",
                "--to=html5",
                "--wrap=none",
                "--citeproc",
                f"--csl={style_path(style)}",
                f"--bibliography={bibliography}",
                "--metadata=notes-after-punctuation=true",
            ],
            input=body.encode(),
            capture_output=True,
            check=True,
        )
    return done.stdout.decode()
