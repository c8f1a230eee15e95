"""Benchmark: the live preview of a 10,000-word article with 200 citations over 50
references, through pandoc --citeproc (target: at most 0.3 s a render).

The preview re-renders on every pause in typing: one word changed each time.
Run: `make bench` (or `.venv/bin/python bench/preview_render.py`).
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.test_settings")

import django  # noqa: E402

django.setup()

from articles.pandoc import pandoc_version  # noqa: E402
from articles.rendering import render_article  # noqa: E402

REFERENCES = 50
CITATIONS = 200


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


def body(refs: dict, marker: str) -> str:
    keys = list(refs)
    filler = " ".join(["couples therapy helps partners rebuild closeness"] * 7)[:300]
    paragraphs = []
    for n in range(CITATIONS):
        cite = f"[@{keys[n % len(keys)]}, p. {n}]" if n % 3 else f"[@{keys[n % len(keys)]}]"
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


def main() -> None:
    refs = library()
    words = len(body(refs, "v0").split())
    print(f"pandoc {pandoc_version()}; {words:,} words, {CITATIONS} citations, {REFERENCES} refs")
    for style in ("apa", "ama"):
        cold = timed(
            lambda s=style: render_article(body=body(refs, "v0"), references=refs, style=s), 1
        )
        edits = iter(range(10_000))  # one changed word per render, as when typing
        warm = timed(
            lambda s=style, e=edits: render_article(
                body=body(refs, f"v{next(e)}"), references=refs, style=s
            ),
            20,
        )
        print(
            f"{style}: cold {cold[0] * 1000:.0f} ms, while typing median "
            f"{statistics.median(warm) * 1000:.0f} ms (max {max(warm) * 1000:.0f} ms); "
            f"target 300 ms"
        )


if __name__ == "__main__":
    main()
