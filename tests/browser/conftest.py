"""End-to-end tests in Debian's Chromium, driven by Playwright against `live_server`.

The whole folder is skipped, with the reason, when /usr/bin/chromium (or the playwright
package) is missing; with REQUIRE_BROWSER=1 (CI sets it) the tests fail instead, so a
machine without a browser can never pass CI silently. No tool here ever downloads a
browser: Playwright launches the system Chromium by its path.

Each test gets the demo content (`manage.py load_demo`) in a transactional database (the
live server's thread must see what the test writes, and the other way round), a fresh
browser context, and a `shot(name)` helper that saves a full-page screenshot to
test-artifacts/screenshots/. A failing test also saves the page it failed on.

Only fixtures live here; the tests' page actions (log in, log out) are in pages.py, and
content is made with tests.builders.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (Debian package 'chromium')"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (requirements-dev.txt)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1, but {reason}.", pytrace=False)
    pytest.skip(f"Browser tests skipped: {reason}. Set REQUIRE_BROWSER=1 to make this an error.")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Chromium for the session (the system one; never a downloaded build)."""
    from playwright.sync_api import expect, sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; without this, Django
    # refuses ORM calls from the test code while the browser is up.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        # While the loop runs, Django keeps separate connection objects; close them now,
        # or they would outlive the browser and hold the test database open.
        from django.db import connections

        connections.close_all()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def demo_site(browser, live_server) -> str:
    """The live server's base URL, with the roles and the demo clinic loaded."""
    _ensure_roles()
    call_command("load_demo", stdout=io.StringIO())
    return live_server.url


def _ensure_roles() -> None:
    """Recreate the role groups of migration articles/0003_roles after a flush.

    A transactional test's flush empties every table, and the data migration's groups do
    not come back. Serialized rollback cannot restore them here: once Playwright's event
    loop runs in this thread, Django hands out a new connection object, which lacks the
    serialized copy made at database setup. So the groups are made again, from the same
    ROLE_PERMISSIONS the migration reads.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes

    from articles.roles import apply_role_permissions

    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    apply_role_permissions(Group, Permission)


@pytest.fixture
def page(browser, demo_site, request) -> Iterator:
    """A page in a fresh browser context (its own cookies) pointed at the live server."""
    context = browser.new_context(
        base_url=demo_site, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=SCREENSHOTS / f"{_slug(request.node.name)}-FAILED.png", full_page=True
            )
        except Exception as error:  # noqa: BLE001 - a failed screenshot must not hide the failure
            print(f"Could not save the failure screenshot: {error}")  # noqa: T201
    context.close()


@pytest.fixture
def shot(request) -> Callable:
    """`shot(page, "what-it-shows")` saves a numbered full-page screenshot of this test."""
    counter = itertools.count(1)
    prefix = _slug(request.node.name)
    for stale in SCREENSHOTS.glob(f"{prefix}-*.png"):
        if re.fullmatch(rf"{re.escape(prefix)}-(\d\d-.+|FAILED)\.png", stale.name):
            stale.unlink()

    def take(target, description: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{prefix}-{next(counter):02d}-{_slug(description)}.png"
        target.screenshot(path=path, full_page=True)
        return path

    return take


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
