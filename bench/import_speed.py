"""Benchmark: importing 10,000 generated BibTeX entries against bibtexparser's own parse.

The import reads with bibtexparser 2 and then does the work a parse does not: LaTeX to
Unicode, sentence case, names, dates, identifiers, validation, and the plan against the
library (the preview, or `import_references --dry-run`). Target: at most 1.5 × the time
of `bibtexparser.parse_string` on the same text.

Two files are measured: entries as reference managers export them (with an abstract and
keywords, which bibtexparser must split but the import never converts), and the worst
case for the ratio, the same entries with only the fields the library stores. Writing
the plan (`apply_import`, one INSERT per reference) is timed as well, for information.

CPU time of this process. The machine is shared and its speed drifts by half and more
between minutes, so the import and bibtexparser are timed in alternation, one right after
the other, and the ratio is the median of the pairs' ratios (each pair ran at the same
speed); the times shown are each side's best.
Run: `make bench` (or `.venv/bin/python bench/import_speed.py [ENTRIES] [--json PATH]`);
with `--json`, the figures are also written to PATH (see `--help`).
"""

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.test_settings")

import django  # noqa: E402

django.setup()

import bibtexparser  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from machine import machine  # noqa: E402  (bench/machine.py)

from references.importing import apply_import, parse, preview  # noqa: E402
from references.models import Reference  # noqa: E402

ENTRIES = 10_000
TARGET = 1.5
PAIRS = 7

FAMILIES = ["Parker", "M{\\\"u}ller", "Nguyen", "O'Brien", "Garc{\\'\\i}a", "van der Berg",
            "Smith", "Kowalski", "Rauer", "Brotto", "Lee", "{\\O}stergaard", "Chen"]  # fmt: skip
GIVEN = ["Sarah J.", "Anna", "Minh", "Kate", "Jos{\\'e}", "Pieter", "John B.", "Ewa", "A. J.",
         "Lori A.", "Kim", "S{\\o}ren", "Wei"]  # fmt: skip
TITLES = [
    "Emotional Intimacy and Sexual Satisfaction in {COVID-19} Survivors",
    "Effects of Sleep Quality on Adults Aged {\\textgreater}65: A Cohort Study",
    "Sensate Focus in {Parkinson}'s Disease: A Randomised Trial with $p < 0.05$",
    "\\emph{In vivo} Imaging of Couples Therapy Outcomes",
    "The Efficacy of Sex Therapy for Treating Sexual Dysfunction: A Meta-Analysis",
    "Body Image Concerns, Trauma, and Intimacy in {UK} Adults",
]
JOURNALS = ["The Journal of Sex Research", "Journal of Sex \\& Marital Therapy", "JAMA",
            "Psychology of Women Quarterly", "The Lancet", "BMJ Open"]  # fmt: skip
ABSTRACT = (
    "Background: Intimacy problems are common and treatable. Methods: We followed adults "
    "for two years and measured satisfaction, communication and conflict resolution. "
) * 6  # about 1 KB, as exports carry


def generate(count: int, *, with_abstracts: bool) -> str:
    rng = random.Random(20240501)  # noqa: S311 - test data, not secrets
    out = []
    for i in range(count):
        authors = " and ".join(
            f"{rng.choice(FAMILIES)}, {rng.choice(GIVEN)}" for _ in range(rng.randint(1, 6))
        )
        start = rng.randint(1, 2000)
        pages = f"{start}--{(start + rng.randint(3, 30)) % 100}" if i % 3 else f"e{start}"
        extra = (
            f"  abstract = {{{ABSTRACT}}},\n  keywords = {{intimacy, therapy, couples}},\n"
            f"  file = {{:C\\:/Users/me/Zotero/storage/{i}.pdf:PDF}},\n"
            if with_abstracts
            else ""
        )
        out.append(
            f"@article{{key{i},\n"
            f"  author = {{{authors}}},\n"
            f"  title = {{{TITLES[i % len(TITLES)]} {i}}},\n"
            f"  journal = {{{JOURNALS[i % len(JOURNALS)]}}},\n"
            f"  year = {{{1990 + i % 35}}}, month = {rng.choice(['jan', 'may', 'oct'])},\n"
            f"  volume = {{{i % 90 + 1}}}, number = {{{i % 12 + 1}}}, pages = {{{pages}}},\n"
            f"  doi = {{10.1162/jocn{{\\_}}a{{\\_}}{i:05d}}},\n"
            f"  url = {{https://doi.org/10.1162/jocn_a_{i:05d}}},\n"
            f"{extra}}}\n\n"
        )
    return "".join(out)


def cpu_seconds(function) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def alternating(first, second, pairs: int = PAIRS) -> list[tuple[float, float]]:
    """CPU seconds of `first` then `second`, `pairs` times: each pair at the same speed."""
    gc.collect()
    return [(cpu_seconds(first), cpu_seconds(second)) for _ in range(pairs)]


def measure(label: str, text: str, entries: int) -> dict:
    assert preview(text=text).counts["new"] == entries
    reading = alternating(lambda: bibtexparser.parse_string(text), lambda: parse(text=text))
    planning = alternating(lambda: bibtexparser.parse_string(text), lambda: preview(text=text))
    baseline = min(pair[0] for pair in reading + planning)
    ratios = sorted(ours / theirs for theirs, ours in planning)
    ratio = statistics.median(ratios)
    print(f"{label} ({len(text) / 1e6:.1f} MB)")
    print(f"  bibtexparser.parse_string:          {baseline:6.2f} s")
    print(f"  import: read and convert:           {min(p[1] for p in reading):6.2f} s")
    print(
        f"  import: read, convert and plan:     {min(p[1] for p in planning):6.2f} s"
        f"  = {ratio:.2f} × bibtexparser (median of {len(ratios)} pairs; "
        f"{ratios[0]:.2f}–{ratios[-1]:.2f})"
    )
    return {
        "megabytes": round(len(text) / 1e6, 2),
        "bibtexparser_s": round(baseline, 3),
        "read_convert_s": round(min(p[1] for p in reading), 3),
        "read_convert_plan_s": round(min(p[1] for p in planning), 3),
        "ratio": round(ratio, 3),
        "pair_ratios": [round(r, 3) for r in ratios],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="?", type=int, default=ENTRIES, help="entries per file")
    parser.add_argument(
        "--json", metavar="PATH", help="also write the figures as JSON to PATH (CPU seconds)"
    )
    options = parser.parse_args()
    entries = options.entries
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        load_before = machine()["load_average"]
        realistic = generate(entries, with_abstracts=True)
        lean = generate(entries, with_abstracts=False)
        print(f"{entries} generated BibTeX entries; CPU seconds, {PAIRS} alternating pairs\n")
        files = {
            "as_exported": measure("As exported (abstract, keywords, file)", realistic, entries),
            "stored_fields_only": measure(
                "Stored fields only (worst case for the ratio)", lean, entries
            ),
        }
        ratios = [figures["ratio"] for figures in files.values()]
        start = time.process_time()
        result = apply_import(plan=preview(text=realistic), update_existing=False)
        writing = time.process_time() - start
        assert len(result.created) == entries == Reference.objects.count()
        print(f"\nWriting them (apply_import, one transaction): {writing:.2f} s, for information")
        verdict = "meets" if max(ratios) <= TARGET else "misses"
        print(f"Ratio {max(ratios):.2f} (worst case) {verdict} the target of ≤ {TARGET}×.")
        if options.json:
            report = {
                "benchmark": "import_speed",
                "entries": entries,
                "method": f"CPU seconds; ratio: median of {PAIRS} alternating pairs",
                "target_ratio": TARGET,
                "files": files,
                "worst_ratio": max(ratios),
                "meets_target": max(ratios) <= TARGET,
                "apply_import_s": round(writing, 3),
                "machine": {**machine(), "load_average_before": load_before},
            }
            Path(options.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
