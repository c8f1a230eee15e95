"""What a person does in the browser tests: log in and out of the admin through its forms.

Import explicitly: ``from tests.browser.pages import log_in, log_out``.
"""

from __future__ import annotations

from tests.builders import DEMO_PASSWORD


def log_in(page, username: str, shot=None, password: str = DEMO_PASSWORD) -> None:
    """Log in to the admin through its login form."""
    from playwright.sync_api import expect

    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    if shot is not None:
        shot(page, f"login-{username}")
    page.locator("#login-form [type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def log_out(page, shot=None) -> None:
    """Log out with the admin's logout button (a POST form since Django 5)."""
    from playwright.sync_api import expect

    page.goto("/admin/")
    page.locator("#logout-form [type=submit]").click()
    expect(page.locator("#user-tools")).to_have_count(0)
    if shot is not None:
        shot(page, "logged-out")
