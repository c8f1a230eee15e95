"""axe-core finds no WCAG 2.0 / 2.1 / 2.2 level A or AA violation on the public pages,
nor on the physician's sign-off page in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.pages import log_in
from tests.builders import DEMO_ARTICLE_SLUG, submit_new_demo_article

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations"],
}

PAGES = [
    pytest.param("home", "/", 200, id="home"),
    pytest.param("article", f"/articles/{DEMO_ARTICLE_SLUG}/", 200, id="article"),
    pytest.param("reviewer", "/reviewers/mark-hrymoc/", 200, id="reviewer"),
    pytest.param("search", "/search/?q=intimacy", 200, id="search"),
    pytest.param("category-index", "/categories/", 200, id="category-index"),
    pytest.param("not-found", "/no-such-page/", 404, id="not-found"),
]


@pytest.mark.parametrize(("name", "path", "status"), PAGES)
def test_page_has_no_wcag_violations(page, shot, name, path, status):
    from axe_playwright_python.sync_playwright import Axe

    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"GET {path} answered {response.status}"
    page.wait_for_load_state("networkidle")
    shot(page, name)

    results = Axe().run(page, options=AXE_OPTIONS)

    assert results.violations_count == 0, (
        f"axe-core found {results.violations_count} WCAG A/AA violation(s) on {path}:\n"
        + results.generate_report()
    )


def test_search_results_list_the_demo_article(page, shot):
    """Guards the axe run on the search page: it must be checked with results on it."""
    from playwright.sync_api import expect

    page.goto("/search/?q=intimacy")
    expect(page.locator(f'main a[href$="/articles/{DEMO_ARTICLE_SLUG}/"]').first).to_be_visible()
    shot(page, "search-results")


def test_physician_review_page_is_accessible(page, shot):
    """The sign-off form: ids are unique, every field has its own label, and axe finds
    nothing in the page's content (the Django admin's header and breadcrumbs are Django's)."""
    from axe_playwright_python.sync_playwright import Axe

    revision = submit_new_demo_article(
        slug="talking-about-intimacy",
        title="Talking About Intimacy",
        body="## Start small\n\nEmotional connection comes first [@parker2019].\n",
    )
    log_in(page, "reviewer")
    page.goto(reverse("admin:articles_revision_change", args=[revision.pk]))
    shot(page, "review-page")

    problems = []
    duplicates = page.evaluate(
        """() => {
            const seen = {};
            document.querySelectorAll('[id]').forEach(e => { seen[e.id] = (seen[e.id] || 0) + 1; });
            return Object.entries(seen).filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
        }"""
    )
    if duplicates:
        problems.append(f"Duplicate ids: {', '.join(duplicates)}")
    for form, label in [
        ("form.approve-form", "Comment (optional)"),
        ("form.request-changes-form", "What needs to change"),
    ]:
        if page.locator(form).get_by_label(label, exact=True).count() != 1:
            problems.append(f"The label {label!r} does not name exactly one field in {form}")
    # The review page's own content; the admin's chrome around it is Django's.
    results = Axe().run(page, context="#content-main", options=AXE_OPTIONS)
    if results.violations_count:
        problems.append(results.generate_report())

    assert not problems, "The physician's review page is not accessible:\n" + "\n".join(problems)
