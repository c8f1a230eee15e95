"""Benchmark: the live preview of a 10,000-word article with 200 citations over 50
references, through pandoc --citeproc (target: at most 0.3 s a render).

The preview re-renders on every pause in typing: one word changed each time. A render
whose citations are those of the render before reuses citeproc's result (see
articles/pandoc/citations.lua), so editing a citation itself is measured too: one
citation's page number changed each time, which runs citeproc again. Last, the headroom:
pandoc's CPU time on the heaviest article the limits allow (the most characters and the most
citations), against the CPU limit that refuses a render.

Wall-clock time of `render_article`, median of 20 renders after one cold one. pandoc
alone on the same text (reading Markdown, writing HTML: no filter, no citeproc) is timed
beside each typing render: what any render through pandoc costs at least, and a yardstick
that moves with the machine's speed (which drifts a lot on shared cores).
Run: `make bench` (or `.venv/bin/python bench/preview_render.py [--json PATH]`); with
`--json`, the figures are also written to PATH (see `--help`).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.test_settings")

import django  # noqa: E402

django.setup()

from machine import machine  # noqa: E402  (bench/machine.py)

from articles.pandoc import (  # noqa: E402
    CPU_SECONDS,
    INPUT_FORMAT,
    MAX_BODY_CHARS,
    MAX_CITATIONS,
    PandocError,
    pandoc_binary,
    pandoc_version,
)
from articles.rendering import render_article  # noqa: E402

REFERENCES = 50
CITATIONS = 200
RENDERS = 20
TARGET_MS = 300


def library() -> dict[str, dict]:
    refs = {}
    for n in range(REFERENCES):
        key = f"author{n}{2000 + n % 20}"
        refs[key] = {
            "id": key,
            "type": "article-journal",
            "author": [
                {"family": f"Author{n % 30}", "given": "A. B."},
                {"family": "Second", "given": "C."},
                {"family": "Third", "given": "D."},
            ],
            "issued": {"date-parts": [[2000 + n % 20]]},
            "title": f"A study of intimacy number {n}",
            "container-title": "Journal of Examples",
            "volume": str(n),
            "page": f"{n}-{n + 10}",
            "DOI": f"10.1000/example.{n}",
        }
    return refs


WORDS_PER_PARAGRAPH = 50  # 200 paragraphs of 50 words: 10,000 words


def body(refs: dict, marker: str, page: int = 100) -> str:
    """The article; `marker` changes a word of the title, `page` the page number of the
    101st citation."""
    keys = list(refs)
    filler = " ".join(["couples therapy helps partners rebuild closeness"] * 7)[:300]
    paragraphs = []
    for n in range(CITATIONS):
        locator = page if n == 100 else n
        key = keys[n % len(keys)]
        cite = f"[@{key}, p. {locator}]" if n % 3 else f"[@{key}]"
        words = " ".join((filler.split() * 8)[:WORDS_PER_PARAGRAPH])
        paragraphs.append(f"Paragraph {n}: {words} {cite}.")
    return f"# Title {marker}\n\n" + "\n\n".join(paragraphs)


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def pandoc_alone(text: str) -> None:
    """pandoc reading the Markdown and writing HTML, nothing else: no filter, no citeproc,
    no post-processing. What any render through pandoc costs at least."""
    subprocess.run(  # noqa: S603 - our own binary, fixed arguments
        [pandoc_binary(), "--sandbox", f"--from={INPUT_FORMAT}", "--to=html5", "--wrap=none"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
    )


def heaviest(refs: dict) -> str:
    """As long as the size limit allows, with as many citations as the limit allows: the
    most pandoc and citeproc work a body the site accepts can ask for."""
    keys = list(refs)
    room = (MAX_BODY_CHARS - 2_000) // MAX_CITATIONS  # characters for each citation
    sentences = []
    for n in range(MAX_CITATIONS):
        cite = f" [@{keys[n % len(keys)]}]. "
        words = "Intimacy matters to couples and to their physicians alike. " * 10
        sentences.append(words[: room - len(cite) - 1] + cite + ("\n\n" if n % 10 == 9 else ""))
    return "".join(sentences)


def headroom(refs: dict, style: str) -> dict:
    """pandoc's CPU time (children's rusage) on the heaviest body, or the refusal."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        render_article(body=heaviest(refs) + f" {style}", references=refs, style=style)
        refused = ""
    except PandocError as error:
        refused = str(error)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "heaviest_cpu_s": round(cpu, 2),
        "cpu_limit_s": CPU_SECONDS,
        "heaviest_refused": refused,
    }


def measure(refs: dict, style: str) -> dict:
    """Cold, while typing (the same citations each time) and editing a citation; pandoc
    alone on the same text is timed right before each typing render, so the two are
    compared at the same machine speed."""
    cold = timed(lambda: render_article(body=body(refs, "v0"), references=refs, style=style), 1)
    floor: list[float] = []
    typing: list[float] = []
    for edit in range(1, RENDERS + 1):  # one changed word per render, as when typing
        text = body(refs, f"v{edit}")
        floor += timed(lambda text=text: pandoc_alone(text), 1)
        typing += timed(
            lambda text=text: render_article(body=text, references=refs, style=style), 1
        )
    pages = iter(range(1_000, 10_000))  # one citation's page number changed per render
    citing = timed(
        lambda: render_article(body=body(refs, "v0", next(pages)), references=refs, style=style),
        RENDERS,
    )

    def ms(seconds: float) -> float:
        return round(seconds * 1000, 1)

    return {
        "cold_ms": ms(cold[0]),
        "typing_median_ms": ms(statistics.median(typing)),
        "typing_max_ms": ms(max(typing)),
        "pandoc_alone_median_ms": ms(statistics.median(floor)),
        "typing_over_pandoc_alone": round(
            statistics.median(t / f for t, f in zip(typing, floor, strict=True)), 2
        ),
        "citation_edit_median_ms": ms(statistics.median(citing)),
        "citation_edit_max_ms": ms(max(citing)),
        "renders": RENDERS,
        "meets_target": statistics.median(typing) * 1000 <= TARGET_MS,
        **headroom(refs, style),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="also write the figures as JSON to PATH (times in milliseconds)",
    )
    options = parser.parse_args()
    refs = library()
    words = len(body(refs, "v0").split())
    print(f"pandoc {pandoc_version()}; {words:,} words, {CITATIONS} citations, {REFERENCES} refs")
    load_before = machine()["load_average"]
    results = {}
    for style in ("apa", "ama"):
        result = results[style] = measure(refs, style)
        print(
            f"{style}: cold {result['cold_ms']:.0f} ms, while typing median "
            f"{result['typing_median_ms']:.0f} ms (max {result['typing_max_ms']:.0f} ms); "
            f"target {TARGET_MS} ms; editing a citation median "
            f"{result['citation_edit_median_ms']:.0f} ms; pandoc alone on the same text "
            f"{result['pandoc_alone_median_ms']:.0f} ms (typing / pandoc alone: "
            f"{result['typing_over_pandoc_alone']:.2f}); the heaviest body the limits allow: "
            f"pandoc {result['heaviest_cpu_s']:.1f} s of CPU (limit "
            f"{result['cpu_limit_s']} s){'; REFUSED' if result['heaviest_refused'] else ''}"
        )
    if options.json:
        report = {
            "benchmark": "preview_render",
            "pandoc": pandoc_version(),
            "document": {"words": words, "citations": CITATIONS, "references": REFERENCES},
            "method": f"wall-clock time of render_article, median of {RENDERS} renders",
            "target_ms": TARGET_MS,
            "styles": results,
            "meets_target": all(result["meets_target"] for result in results.values()),
            "machine": {**machine(), "load_average_before": load_before},
        }
        Path(options.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
