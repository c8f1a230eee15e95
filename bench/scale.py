"""Scale figures for `make bench`: response times of the public pages and the admin article
changelist on a database filled by `manage.py generate_scale_data`, and the query plans
behind them. bench/harness.py creates the database, runs this with the production
settings (DJANGO_SETTINGS_MODULE=bench.settings, DATABASE_URL, REDIS_URL) and drops it.

Requests go through Django's test client: the whole middleware stack and the view, in
this process, no HTTP. Each URL gets one unmeasured request, then up to --samples
measured ones (fewer when they take long: at most --time-cap seconds a URL). p50 and p95
are nearest-rank over those.

With the public page cache installed (pagecache), public pages are measured twice:
**cold**, the public version replaced before every request (as after any publish: the
request reads the new version, misses, renders and stores), and **warm** (stored pages
served). Cold is the honest figure. Without it, once: **uncached**. The admin is logged
in, so never cached: measured once.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... python bench/scale.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from articles.models import Article, Category  # noqa: E402
from articles.views import MAX_LIST_PAGE, published_list  # noqa: E402
from references.models import Reference  # noqa: E402
from reviewers.models import Reviewer  # noqa: E402

SEARCH_WORD = "insomnia"


def nearest_rank(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def timed_requests(
    client: Client, url: str, samples: int, cap: float, before: Callable[[], None] | None
) -> tuple[list[float], dict]:
    if before:
        before()
    first = client.get(url)
    answer = {
        "status": first.status_code,
        "bytes": len(first.content) if not getattr(first, "streaming", False) else 0,
        "cache": set(),
    }
    times: list[float] = []
    started = time.monotonic()
    while len(times) < samples and (time.monotonic() - started < cap or len(times) < 5):
        if before:
            before()
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != answer["status"]:
            answer["status_changed"] = response.status_code
        if response.has_header("X-Page-Cache"):
            answer["cache"].add(response["X-Page-Cache"])
    return times, answer


def explain(queryset_or_sql, params=None) -> str:
    with connection.cursor() as cursor:
        if isinstance(queryset_or_sql, str):
            sql = queryset_or_sql
        else:
            sql, params = queryset_or_sql.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def count_sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    return f"SELECT COUNT(*) FROM ({sql}) AS counted", params  # noqa: S608 - our own SQL


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--time-cap", type=float, default=30.0)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    category = Category.objects.order_by("name").first()
    reviewer = Reviewer.objects.order_by("display_name").first()
    article = published_list().first()
    if category is None or reviewer is None or article is None:
        raise SystemExit("No generated data: run manage.py generate_scale_data first.")
    User = get_user_model()
    staff, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    public_client = Client()
    admin_client = Client()
    admin_client.force_login(staff)

    public_urls = [
        ("/", "home"),
        ("/?page=500", "home list, page 500"),
        (article.get_absolute_url(), "an article"),
        (category.get_absolute_url(), f"a category ({category.name})"),
        (reviewer.get_absolute_url(), f"a reviewer ({reviewer.display_name})"),
        (f"/search/?q={SEARCH_WORD}", "search"),
        ("/sitemap.xml", "sitemap.xml"),
        ("/feed/", "RSS feed"),
        ("/feed/atom/", "Atom feed"),
        ("/categories/", "the category index (counts per category)"),
        ("/reviewers/", "the reviewer index (counts per reviewer)"),
    ]
    # A sitemap index names its sections: measure each kind of section page too.
    index = public_client.get("/sitemap.xml")
    if b"<sitemapindex" in index.content:
        import re

        locations = re.findall(rb"<loc>([^<]+)</loc>", index.content)
        seen_sections = set()
        for location in locations:
            path = location.decode().split("://", 1)[-1]
            path = "/" + path.split("/", 1)[1] if "/" in path else "/"
            section = path.split("?")[0]
            if section in seen_sections:
                continue
            seen_sections.add(section)
            public_urls.append((path, "a sitemap section page"))
        last = locations[-1].decode().split("://", 1)[-1]
        last = "/" + last.split("/", 1)[1]
        if last not in {url for url, _ in public_urls}:
            public_urls.append((last, "the last sitemap page"))

    cat_filter = f"category__id__exact={category.pk}"
    admin_urls = [
        ("/admin/articles/article/", "admin changelist"),
        (f"/admin/articles/article/?{cat_filter}", "admin changelist, category filter"),
        (f"/admin/articles/article/?q={SEARCH_WORD}", "admin changelist, search"),
        (
            f"/admin/articles/article/?workflow=live&{cat_filter}&q={SEARCH_WORD}",
            "admin changelist, filters and search",
        ),
    ]
    # Measured too, outside the changelist target: the filter that finds most of the site
    # (eight years of articles, a 365-day interval) and the admin home.
    other_admin_urls = [
        ("/admin/articles/article/?workflow=overdue", "admin changelist, review overdue"),
        ("/admin/", "admin home"),
    ]

    cached = apps.is_installed("pagecache")
    if cached:
        from pagecache.version import retire_all_pages

        modes: dict[str, Callable[[], object] | None] = {"cold": retire_all_pages, "warm": None}
        notes = {
            "cold": "the public version replaced before every request (as after a publish): "
            "version read, miss, the view, the page stored",
            "warm": "the same URL again: the stored page",
        }
        honest, warm = "cold", "warm"
    else:
        modes = {"uncached": None}
        notes = {"uncached": "no public page cache in this build: every request runs the view"}
        honest, warm = "uncached", None

    rows = []
    for url, label in public_urls:
        row: dict = {"url": url, "label": label, "kind": "public", "modes": {}}
        for mode, before in modes.items():
            times, answer = timed_requests(
                public_client,
                url,
                args.samples,
                args.time_cap,
                before,  # type: ignore[arg-type]
            )
            row["modes"][mode] = {
                "p50_ms": nearest_rank(times, 0.5),
                "p95_ms": nearest_rank(times, 0.95),
                "n": len(times),
            }
            row.setdefault("answers", []).append(answer)
            print(f"{mode:>8} {url:<60} p50 {row['modes'][mode]['p50_ms']:8.1f} ms  "
                  f"p95 {row['modes'][mode]['p95_ms']:8.1f} ms", flush=True)  # fmt: skip
        rows.append(row)
    admin_rows = [(url, label, "admin") for url, label in admin_urls]
    admin_rows += [(url, label, "admin-other") for url, label in other_admin_urls]
    for url, label, kind in admin_rows:
        times, answer = timed_requests(admin_client, url, args.samples, args.time_cap, None)
        row = {
            "url": url,
            "label": label,
            "kind": kind,
            "modes": {
                honest: {
                    "p50_ms": nearest_rank(times, 0.5),
                    "p95_ms": nearest_rank(times, 0.95),
                    "n": len(times),
                }
            },
            "answers": [answer],
        }
        print(f"   admin {url:<60} p50 {row['modes'][honest]['p50_ms']:8.1f} ms  "
              f"p95 {row['modes'][honest]['p95_ms']:8.1f} ms", flush=True)  # fmt: skip
        rows.append(row)
    for row in rows:
        answers = row.pop("answers")
        first = answers[0]
        caches = sorted(set().union(*(a["cache"] for a in answers)))
        row["answer"] = (
            f"{first['status']}, {first['bytes'] / 1000:,.0f} kB"
            + (f", X-Page-Cache: {'/'.join(caches)}" if caches else "")
            + (f", then {first['status_changed']}" if "status_changed" in first else "")
        )

    plans = {}
    home = published_list()
    plans["home, page 1 (the list query)"] = explain(home[:10])
    plans["home, page 500"] = explain(home[4990:5000])
    plans["home: counting the list (what Django's Paginator did; the lists no longer count)"] = (
        explain(*count_sql(home))
    )
    in_category = published_list().filter(live_revision__category=category)
    plans[f"category {category.name}, page 1"] = explain(in_category[:10])
    plans[f"category {category.name}, page 300"] = explain(in_category[2990:3001])
    by_reviewer = published_list().filter(live_revision__approval__reviewer=reviewer)
    plans[f"reviewer {reviewer.display_name}, page 1"] = explain(by_reviewer[:20])

    def best_of_5(make_queryset: Callable[[], object]) -> float:
        runs = []
        for _ in range(5):
            queryset = make_queryset()  # a new one each time: no result cache
            t0 = time.perf_counter()
            list(queryset)  # type: ignore[call-overload]
            runs.append((time.perf_counter() - t0) * 1000)
        return min(runs)

    # What a page costs by depth: each skips (OFFSET) every article before it.
    deep: dict[str, dict[str, float]] = {}
    in_category_total = in_category.count()
    for page in (1, 10, 100, 300, 500):
        offset = (page - 1) * 10
        deep[f"{page:,}"] = {
            "home": best_of_5(lambda o=offset: published_list()[o : o + 11]),
        }
        if offset < in_category_total:
            deep[f"{page:,}"]["category"] = best_of_5(
                lambda o=offset: published_list().filter(live_revision__category=category)[
                    o : o + 11
                ]
            )

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    result = {
        "postgres": pg_version,
        "counts": {
            "articles": Article.objects.published().count(),
            "references": Reference.objects.count(),
            "reviewers": Reviewer.objects.count(),
            "categories": Category.objects.count(),
            "citations": Article.cited_references.through.objects.count(),
        },
        "samples": args.samples,
        "time_cap": args.time_cap,
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "modes": list(modes),
        "mode_notes": notes,
        "honest_mode": honest,
        "warm_mode": warm,
        "rows": rows,
        "explain": plans,
        "deep_pages": deep,
        "deep_category": f"{category.name} ({in_category_total:,} articles)",
        "max_list_page": MAX_LIST_PAGE,
    }
    args.json.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
