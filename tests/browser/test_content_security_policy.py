"""Under the strict Content-Security-Policy, the public pages, the admin, the writer's live
preview and the physician's review page (with its framed preview) all work, and Chromium
reports no violation in the console."""

from __future__ import annotations

import contextlib

import pytest

from tests.browser.pages import log_in
from tests.builders import DEMO_ARTICLE_SLUG, submit_new_demo_article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_console(page) -> list[str]:
    """Every console message about a refused resource or a policy violation."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if ("Content Security Policy" in message.text or "Refused to" in message.text)
            else None
        ),
    )
    return seen


def test_public_pages_send_the_policy_and_break_none_of_it(page):
    violations = watch_console(page)
    response = page.goto(f"/articles/{DEMO_ARTICLE_SLUG}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'self'" in policy
    assert "camera=()" in response.headers["permissions-policy"]
    page.goto("/search/?q=intimacy")
    page.goto("/reviewers/mark-hrymoc/")
    assert violations == []


def test_the_live_preview_works_under_the_policy(page, shot):
    from playwright.sync_api import expect

    violations = watch_console(page)
    log_in(page, "writer")
    page.goto("/admin/articles/article/add/")
    page.fill("#id_title", "Sleep and mood")
    page.locator("textarea#id_body").fill("## Why sleep matters\n\nRest helps [@parker2019].")
    preview = page.locator(".markdownx-preview")
    expect(preview.get_by_role("heading", name="Why sleep matters")).to_be_visible()
    expect(preview.locator("a.citation")).to_have_count(1)
    shot(page, "preview-under-csp")
    assert violations == []


def test_the_review_page_and_its_framed_preview_work_under_the_policy(page, shot):
    from playwright.sync_api import expect

    revision = submit_new_demo_article(
        slug="csp-check", title="Checked under the policy", body="Plain words.\n"
    )
    violations = watch_console(page)
    log_in(page, "reviewer")
    page.goto(f"/admin/articles/revision/{revision.pk}/change/")
    framed = page.frame_locator("iframe.public-frame")
    expect(framed.get_by_role("heading", name="Checked under the policy")).to_be_visible()
    page.get_by_label("Phone width (390 px)").check()
    shot(page, "review-under-csp")
    assert violations == []


def test_the_watch_sees_a_violation_when_there_is_one(page):
    """Guards the checks above: an inline script on a public page is refused and reported."""
    violations = watch_console(page)
    page.goto("/")
    # Chromium may raise as it refuses the script; the console says why either way. The
    # test waits for that report (up to the suite's timeout), not a fixed 200 ms that a
    # busy machine could exceed before the message arrived.
    reported = page.expect_console_message(
        lambda message: "Content Security Policy" in message.text
    )
    with reported, contextlib.suppress(Exception):
        page.add_script_tag(content="document.title = 'injected'")
    assert page.title() != "injected"
    assert any("Content Security Policy" in text for text in violations), violations
