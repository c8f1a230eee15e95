"""Workflow steps during `make soak`'s database restart, and the check that none was lost.

`run`: until the deadline, take new articles through save → submit → approve → publish by
the demo staff, through the same workflow functions the admin calls, each step as a request
would run it (stale connections closed first, as Django does at every request). Every
attempt is written as one JSON line: the step, whether it returned (done) or raised, and
what it made. An article whose step failed is left there; the next one starts afresh.

`verify`: every step reported done is in the database (the article, the revision and its
audit event, the approval, the live revision), and the audit chain verifies.

Run by bench/soak.py with the site's environment (production settings, PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from articles import workflow  # noqa: E402
from articles.models import Article, AuditAction, AuditEvent, Category, Review, Revision  # noqa: E402

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo accounts' published password


def run(*, until: float, out: Path, prefix: str) -> None:
    User = get_user_model()
    writer, reviewer, editor = (
        User.objects.get(username=n) for n in ("writer", "reviewer", "editor")
    )
    category = Category.objects.get(slug="relationships-and-intimacy")
    n = 0
    with (
        out.open("a") as log,
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
    ):
        while time.time() < until:
            n += 1
            slug = f"{prefix}-{n}"
            state: dict = {}

            def save(slug=slug, state=state):
                article = Article(slug=slug, category=category, author=writer)
                article.title = f"Soak article {slug}"
                article.summary = "Written while the database restarts."
                article.body = f"## Soak\n\nArticle {slug}, written during the soak test.\n"
                state["article"] = workflow.save_working_copy(
                    article=article, actor=writer, expected_version=None
                )
                return {"article": state["article"].pk}

            def submit(state=state):
                state["revision"] = workflow.submit_for_review(
                    article=state["article"], actor=writer, change_note="Soak."
                )
                return {"revision": state["revision"].pk}

            def approve(state=state):
                revision = state["revision"]
                review = workflow.approve(
                    revision=revision,
                    actor=reviewer,
                    password=DEMO_PASSWORD,
                    attestation_accepted=True,
                    seen_hash=revision.content_hash,
                    comment="Soak.",
                )
                return {"revision": revision.pk, "review": review.pk}

            def publish(state=state):
                revision = Revision.objects.get(pk=state["revision"].pk)
                workflow.publish(revision=revision, actor=editor)
                return {"revision": revision.pk}

            for step in (save, submit, approve, publish):
                close_old_connections()  # what Django does before and after each request
                started = time.time()
                entry = {"slug": slug, "step": step.__name__, "t": started}
                try:
                    entry |= {"done": True, **step()}
                except Exception as error:  # noqa: BLE001 - every failure is the record
                    entry |= {"done": False, "error": f"{type(error).__name__}: {error}"[:300]}
                entry["seconds"] = round(time.time() - started, 3)
                log.write(json.dumps(entry) + "\n")
                log.flush()
                if not entry["done"]:
                    time.sleep(0.05)
                    break
                if time.time() >= until:
                    break
            close_old_connections()


def verify(*, log_path: Path) -> dict:
    """Check every done step against the database; return counts and any missing step."""
    entries = [json.loads(line) for line in log_path.read_text().splitlines() if line]
    missing = []
    for entry in entries:
        if entry["done"] and not _present(entry):
            missing.append(entry)
    from articles.audit_chain import verify_and_record

    report = verify_and_record()
    return {
        "attempted": len(entries),
        "done": sum(e["done"] for e in entries),
        "failed": sum(not e["done"] for e in entries),
        "failed_but_committed": sum(not e["done"] and _present_any(e) for e in entries),
        "missing": missing,
        "errors": sorted({e["error"].split(":")[0] for e in entries if not e["done"]}),
        "audit_ok": report.ok,
        "audit_problem": "" if report.ok else str(report.problem),
        "audit_events": report.events_checked,
    }


def _present(entry: dict) -> bool:
    step = entry["step"]
    if step == "save":
        return Article.objects.filter(pk=entry["article"], slug=entry["slug"]).exists()
    revision = Revision.objects.filter(pk=entry["revision"], article__slug=entry["slug"]).first()
    if revision is None:
        return False
    if step == "submit":
        return _audited(revision, AuditAction.SUBMITTED)
    if step == "approve":
        return (
            Review.objects.filter(pk=entry["review"], revision=revision).exists()
            and revision.approval_id == entry["review"]
            and _audited(revision, AuditAction.APPROVED)
        )
    if step == "publish":
        return Article.objects.filter(
            slug=entry["slug"], live_revision=revision
        ).exists() and _audited(revision, AuditAction.PUBLISHED)
    raise ValueError(step)


def _present_any(entry: dict) -> bool:
    """A step that raised but whose effect is in the database (its commit went through and
    the answer was lost): allowed, and counted, never a loss."""
    article = Article.objects.filter(slug=entry["slug"]).first()
    if entry["step"] == "save":
        return article is not None
    if article is None:
        return False
    action = {
        "submit": AuditAction.SUBMITTED,
        "approve": AuditAction.APPROVED,
        "publish": AuditAction.PUBLISHED,
    }[entry["step"]]
    return AuditEvent.objects.filter(article=article, action=action).exists()


def _audited(revision: Revision, action: str) -> bool:
    return AuditEvent.objects.filter(revision=revision, action=action).exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--seconds", type=float, required=True)
    run_parser.add_argument("--out", type=Path, required=True)
    run_parser.add_argument("--prefix", default=f"soak-{int(time.time())}")
    verify_parser = sub.add_parser("verify")
    verify_parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "run":
        run(until=time.time() + args.seconds, out=args.out, prefix=args.prefix)
    else:
        print(json.dumps(verify(log_path=args.log), indent=2))


if __name__ == "__main__":
    main()
