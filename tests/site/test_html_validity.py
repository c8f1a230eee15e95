"""Every public page type is valid HTML by the W3C Nu HTML checker (vnu.jar).

The pages are fetched with Django's test client over the demo content, saved to files and
checked in ONE run of the checker (its JVM is slow to start). A deliberately broken page
goes along as a canary, so a checker that silently reports nothing fails the test too.

Needs Java and the checker from the npm registry (`npm ci`, package vnu-jar, pinned in
package.json). Without them the test is skipped with the reason, unless REQUIRE_BROWSER=1
(as in CI): then it fails.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
DEMO_ARTICLE_SLUG = "couples-therapy-and-sex-therapy-for-intimacy-issues"
DEMO_CATEGORY_SLUG = "relationships-and-intimacy"
DEMO_REVIEWER_SLUG = "mark-hrymoc"

# name → (path, expected status)
PAGES = {
    "home": ("/", 200),
    "article": (f"/articles/{DEMO_ARTICLE_SLUG}/", 200),
    "category-index": ("/categories/", 200),
    "category": (f"/categories/{DEMO_CATEGORY_SLUG}/", 200),
    "reviewer-index": ("/reviewers/", 200),
    "reviewer": (f"/reviewers/{DEMO_REVIEWER_SLUG}/", 200),
    "search": ("/search/?q=intimacy", 200),
    "not-found": ("/no-such-page/", 404),
}
CANARY = "zz-canary"
CANARY_HTML = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>canary</title></head>"
    "<body><p><div>A div may not close a paragraph.</p></body></html>"
)
FAILING_TYPES = {"error", "non-document-error"}


def _checker() -> list[str]:
    """The command that runs the checker, or a skip/failure saying what is missing."""
    java = shutil.which("java")
    missing = []
    if java is None:
        missing.append("Java is not installed (Debian package default-jre-headless)")
    if not VNU_JAR.is_file():
        missing.append(f"{VNU_JAR.relative_to(ROOT)} is missing (run `npm ci`)")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1, but the HTML checker cannot run: {reason}.")
        pytest.skip(f"W3C Nu HTML checker unavailable: {reason}.")
    return [java, "-Xss4m", "-jar", str(VNU_JAR), "--format", "json", "--stdout"]


def _describe(message: dict) -> str:
    line = message.get("lastLine") or message.get("firstLine") or "?"
    column = message.get("firstColumn") or message.get("lastColumn") or "?"
    text = f"  line {line}, column {column}: {message.get('message', '').strip()}"
    extract = message.get("extract")
    if extract:
        text += f"\n      near: {extract.strip()!r}"
    return text


def test_public_pages_are_valid_html(client, db, tmp_path):
    command = _checker()
    call_command("load_demo", stdout=io.StringIO())

    files: dict[str, Path] = {}
    for name, (path, expected_status) in PAGES.items():
        response = client.get(path)
        assert response.status_code == expected_status, (
            f"GET {path} answered {response.status_code}, expected {expected_status}"
        )
        assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
        files[name] = tmp_path / f"{name}.html"
        files[name].write_bytes(response.content)
    files[CANARY] = tmp_path / f"{CANARY}.html"
    files[CANARY].write_text(CANARY_HTML, encoding="utf-8")

    completed = subprocess.run(
        [*command, *(str(path) for path in files.values())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"The checker's output is not JSON (exit {completed.returncode}).\n"
            f"stdout: {completed.stdout[:2000]}\nstderr: {completed.stderr[:2000]}"
        )

    by_page: dict[str, list[dict]] = {name: [] for name in files}
    for message in report.get("messages", []):
        if message.get("type") not in FAILING_TYPES:
            continue
        url = message.get("url", "")
        name = url.rsplit("/", 1)[-1].removesuffix(".html")
        by_page.setdefault(name if name in files else url or "(no file)", []).append(message)

    assert by_page.pop(CANARY), (
        "The checker reported no error on a deliberately invalid page; it is not working.\n"
        f"stdout: {completed.stdout[:2000]}\nstderr: {completed.stderr[:2000]}"
    )
    invalid = {name: messages for name, messages in by_page.items() if messages}
    assert not invalid, "The W3C Nu HTML checker found errors:\n" + "\n".join(
        f"{name} ({PAGES.get(name, (name,))[0]}): {len(messages)} error(s)\n"
        + "\n".join(_describe(message) for message in messages)
        for name, messages in invalid.items()
    )
