"""robots.txt, the 404 and 500 pages in the site's design, and the stylesheet's promises."""

from __future__ import annotations

from pathlib import Path

from django.test import RequestFactory
from django.urls import reverse

from clinic_site import views

ROOT = Path(__file__).resolve().parents[2]


def test_robots_txt(client, settings):
    settings.SITE_URL = "https://articles.clinic.example"
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Allow: /" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /preview/" in lines
    assert "Sitemap: https://articles.clinic.example/sitemap.xml" in lines
    assert "Disallow: /" not in lines  # everything else is open to crawlers


def test_robots_txt_disallowed_paths_match_the_urls(db):
    assert reverse("admin:index") == "/admin/"
    preview = reverse("articles:revision_preview", kwargs={"slug": "x", "number": 1})
    assert preview.startswith("/preview/")


def test_robots_txt_answers_get_and_head_only(client):
    assert client.head("/robots.txt").status_code == 200
    assert client.post("/robots.txt").status_code == 405


def test_404_page_in_the_site_design(client, db, settings):
    assert settings.DEBUG is False
    response = client.get("/this/does/not/exist/")
    assert response.status_code == 404
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert "<title>Page not found · " in html
    assert "<h1>Page not found</h1>" in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<nav class="site-nav" aria-label="Main">' in html
    assert settings.CLINIC_CTA_HEADING in html and 'href="tel:+13106019999"' in html
    assert '<meta name="robots" content="noindex">' in html
    assert '<link rel="canonical"' not in html


def test_404_handler_directly(rf: RequestFactory, db):
    response = views.page_not_found(rf.get("/missing/"), Exception("nope"))
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_500_page_in_the_site_design(rf: RequestFactory, settings):
    response = views.server_error(rf.get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert "<h1>Something went wrong</h1>" in html
    assert settings.CLINIC_NAME in html
    assert 'href="tel:+13106019999"' in html
    assert '<meta name="robots" content="noindex">' in html


def test_500_page_survives_a_broken_template(rf: RequestFactory, monkeypatch):
    def broken(name):
        raise RuntimeError("template engine down")

    monkeypatch.setattr(views.loader, "get_template", broken)
    response = views.server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Server error (500)" in response.content


def test_handlers_are_wired():
    from clinic_site import urls

    assert urls.handler404 == "clinic_site.views.page_not_found"
    assert urls.handler500 == "clinic_site.views.server_error"


def test_stylesheet_covers_focus_print_targets_and_preview():
    css = (ROOT / "static" / "css" / "site.css").read_text()
    assert ":focus-visible" in css
    assert "@media print" in css
    assert "attr(href)" in css  # printed references show their addresses
    assert ".reference-list li:target" in css
    assert ".preview-banner" in css
    assert "--measure: 70ch" in css
    assert ".skip-link:focus" in css
