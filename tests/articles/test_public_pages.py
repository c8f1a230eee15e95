"""What a reader sees on each public page, and the staff preview's access rules."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from articles.models import Article, Category, Revision
from tests.builders import make_user, submit


def _html(response) -> str:
    return response.content.decode()


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


# --- The shell every page shares ---------------------------------------------------------


def test_base_layout_landmarks_and_call_to_action(client, published_article, settings):
    html = _html(client.get(reverse("articles:home")))
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert '<nav class="site-nav" aria-label="Main">' in html
    for label, url in (
        ("Home", reverse("articles:home")),
        ("Categories", reverse("articles:category_index")),
        ("Our reviewers", reverse("reviewers:index")),
    ):
        assert re.search(rf'<a href="{re.escape(url)}"[^>]*>{label}</a>', html), label
    # A labelled search field in a search landmark.
    assert 'role="search"' in html
    assert '<label for="site-search-q"' in html and 'id="site-search-q"' in html
    # The footer's call to action, with a dialable phone link.
    footer = html.split('<footer class="site-footer">', 1)[1]
    assert "<h2" in footer and settings.CLINIC_CTA_HEADING in footer
    assert settings.CLINIC_CTA_TEXT in footer
    assert '<a class="cta-button" href="tel:+13106019999">(310) 601-9999</a>' in footer
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert "<script" not in html.replace('<script type="application/ld+json">', "")


# --- Home --------------------------------------------------------------------------------


def test_home_lists_latest_articles_with_reviewer(client, published_article):
    response = client.get(reverse("articles:home"))
    assert response.status_code == 200
    main = _main(_html(response))
    assert "<h1>Latest articles</h1>" in main
    assert f'<a href="{published_article.get_absolute_url()}">' in main
    assert "How Couples Therapy Can Address Intimacy Issues" in main
    assert "Couples therapy and sex therapy help partners rebuild closeness." in main
    assert "Medically reviewed by Mark Hrymoc, M.D." in main
    assert 'href="/categories/relationships/"' in main


def test_home_paginates_ten_per_page(client, make_published):
    for n in range(11):
        make_published(title=f"Article number {n:02d}", slug=f"a-{n:02d}")
    first = client.get(reverse("articles:home"))
    assert len(first.context["articles"]) == 10
    assert "Article number 10" in _html(first)  # newest first
    assert 'rel="next" href="?page=2"' in _html(first)
    second = client.get(reverse("articles:home"), {"page": 2})
    assert second.status_code == 200
    assert [a.slug for a in second.context["articles"]] == ["a-00"]
    assert '<link rel="canonical" href="http://127.0.0.1:8000/?page=2">' in _html(second)
    assert client.get(reverse("articles:home"), {"page": 3}).status_code == 404
    assert client.get(reverse("articles:home"), {"page": "x"}).status_code == 404


def test_home_without_articles(client, db):
    response = client.get(reverse("articles:home"))
    assert response.status_code == 200
    assert "No articles have been published yet" in _html(response)


# --- The article page --------------------------------------------------------------------


def test_article_page_shows_the_live_revision_with_its_review(client, published_article):
    response = client.get(published_article.get_absolute_url())
    assert response.status_code == 200
    html = _html(response)
    main = _main(html)
    revision = published_article.live_revision
    review = revision.approval
    assert '<h1 id="article-title">How Couples Therapy Can Address Intimacy Issues</h1>' in main
    assert "Couples therapy and sex therapy help partners rebuild closeness." in main
    assert "Written by Wendy Writer" in main
    assert (
        'Medically reviewed by <a href="/reviewers/mark-hrymoc/">Mark Hrymoc, M.D.</a>, '
        "Chief Medical Officer" in main
    )
    reviewed_on = review.created_at
    from django.utils import timezone

    local = timezone.localtime(reviewed_on)
    assert f'Last reviewed <time datetime="{local:%Y-%m-%d}">' in main
    assert "Published <time" in main
    assert "Updated <time" not in main  # same day as first publication
    assert f"{revision.reading_minutes} min read" in main
    assert 'In <a href="/categories/relationships/">Relationships</a>' in main
    # The stored, sanitized body with its linked citations, and the reference list.
    assert revision.rendered_html in main
    assert '<a class="citation" href="#ref-parker2019"' in main
    assert '<h2 id="article-references-heading">References</h2>' in main
    assert '<li id="ref-parker2019">' in main and '<li id="ref-rauer2015">' in main
    assert 'class="backlinks"' in main
    assert "https://doi.org/10.1000/parker2019" in main
    # The call to action inside the article, with the phone number.
    assert '<h2 id="article-cta-heading">Seek Support</h2>' in main
    assert 'href="tel:+13106019999"' in main
    # The reviewer card shows what JSON-LD claims about the reviewer.
    assert "Board certified in General Psychiatry, Addiction Psychiatry" in main
    assert "Specialties: Couples therapy, Addiction medicine" in main
    # Update history.
    assert '<h2 id="article-history-heading">Update history</h2>' in main
    assert "First version." in main


def test_article_page_table_of_contents_needs_three_headings(
    client, published_article, make_published
):
    page = _main(_html(client.get(published_article.get_absolute_url())))
    assert '<nav class="toc"' in page
    for heading in ("understanding-intimacy-issues", "the-role-of-couples-therapy", "seeking-help"):
        anchor = f"section-{heading}"  # prefixed so no heading can take the page's own ids
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page
    short = make_published(slug="short", body="## One\n\nText.\n\n## Two\n\nMore text.")
    assert '<nav class="toc"' not in _html(client.get(short.get_absolute_url()))


def test_table_of_contents_shows_heading_text_escaped_once(client, make_published):
    article = make_published(
        slug="toc-escape",
        body="## Tom & Jerry\n\nA.\n\n## Fear <of> heights\n\nB.\n\n## Three\n\nC.",
    )
    page = _html(client.get(article.get_absolute_url()))
    toc = page.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert ">Tom &amp; Jerry</a>" in toc
    assert "&amp;amp;" not in toc
    assert "<of>" not in page


def test_article_page_open_graph_twitter_and_canonical(client, published_article):
    html = _html(client.get(published_article.get_absolute_url()))
    url = "http://127.0.0.1:8000/articles/couples-therapy-intimacy/"
    assert f'<link rel="canonical" href="{url}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert (
        '<meta property="og:title" content="How Couples Therapy Can Address Intimacy Issues">'
        in html
    )
    assert (
        '<meta property="og:description" content="Couples therapy and sex therapy help partners '
        'rebuild closeness.">' in html
    )
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert '<meta name="twitter:title" content="How Couples Therapy' in html
    assert "og:image" not in html  # no hero image
    assert '<meta name="description" content="Couples therapy and sex therapy' in html


def test_a_heading_cannot_take_the_pages_own_ids(client, make_published):
    article = make_published(body="## Main\n\nA.\n\n## Article title\n\nB.")
    html = _html(client.get(article.get_absolute_url()))
    assert html.count('id="main"') == 1
    assert html.count('id="article-title"') == 1
    assert 'id="section-main"' in html and 'id="section-article-title"' in html


def test_article_page_hero_image(client, make_published, stored_picture):
    hero = stored_picture("couple.jpg").file.name
    article = make_published(hero_image=hero, hero_image_alt="A couple talking on a sofa")
    html = _html(client.get(article.get_absolute_url()))
    assert f'<img src="/media/{hero}" alt="A couple talking on a sofa"' in html
    assert f'<meta property="og:image" content="http://127.0.0.1:8000/media/{hero}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_a_new_hero_image_waits_for_review_like_the_text(
    client, make_published, make_article, stored_picture
):
    """The picture is content: changing it on the working copy changes nothing public."""
    old, new = stored_picture("old.jpg").file.name, stored_picture("new.jpg").file.name
    article = make_published(hero_image=old, hero_image_alt="Old picture")
    make_article(
        article=article,
        title=article.live_revision.title,
        summary=article.live_revision.summary,
        body=article.live_revision.body,
        hero_image=new,
        hero_image_alt="New picture",
    )
    revision = submit(article)
    assert revision.content_hash != article.live_revision.content_hash
    html = _html(client.get(article.get_absolute_url()))
    assert old in html and "Old picture" in html
    assert new not in html and "New picture" not in html


def test_updated_date_and_history_after_a_second_revision(
    client, published_article, make_published
):
    article = published_article
    first_revision = article.live_revision
    earlier = first_revision.published_at - timedelta(days=40)
    Article.objects.filter(pk=article.pk).update(first_published_at=earlier)
    Revision.objects.filter(pk=first_revision.pk).update(published_at=earlier)
    updated = make_published(
        article=Article.objects.get(pk=article.pk),
        title="How Couples Therapy Can Address Intimacy Issues (2nd edition)",
        summary="Updated summary.",
        body="## New\n\nNew body text.",
        change_note="Added the 2024 meta-analysis.",
    )
    main = _main(_html(client.get(updated.get_absolute_url())))
    assert "(2nd edition)" in main and "New body text." in main
    assert "Updated <time" in main
    history = main.split('id="article-history-heading"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", history, re.S)
    assert len(items) == 2
    assert "Added the 2024 meta-analysis." in items[0]
    assert "First version." in items[1]
    assert all("reviewed by Mark Hrymoc, M.D." in item for item in items)


def test_related_articles_same_category_published_max_three(
    client, published_article, make_published, make_article
):
    other = Category.objects.create(name="Sleep", slug="sleep")
    for n in range(4):
        make_published(title=f"Related piece {n}", slug=f"related-{n}")
    make_published(title="Different category piece", slug="elsewhere", category=other)
    make_article(title="Unpublished related draft", slug="draft-related")
    response = client.get(published_article.get_absolute_url())
    related = response.context["related"]
    assert len(related) == 3
    assert all(a.category_id == published_article.category_id for a in related)
    assert published_article.pk not in {a.pk for a in related}
    html = _html(response)
    aside = html.split('<aside class="related"', 1)[1]
    assert "Related piece 3" in aside
    assert "Different category piece" not in aside
    assert "Unpublished related draft" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/articles/no-such-article/",
        "/categories/no-such-category/",
        "/reviewers/no-such-reviewer/",
        "/no/such/page/",
    ],
)
def test_unknown_slugs_are_404_in_the_site_design(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    html = _html(response)
    assert "<h1>Page not found</h1>" in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<meta name="robots" content="noindex">' in html


# --- Categories --------------------------------------------------------------------------


def test_category_index_lists_categories_with_published_articles(
    client, published_article, make_article
):
    Category.objects.create(name="Empty topic", slug="empty-topic")
    response = client.get(reverse("articles:category_index"))
    assert response.status_code == 200
    main = _main(_html(response))
    assert '<h2><a href="/categories/relationships/">Relationships</a></h2>' in main
    assert "1 article</p>" in main
    assert "Empty topic" not in main


def test_category_page_lists_its_published_articles(client, published_article, make_published):
    other = Category.objects.create(name="Sleep", slug="sleep", description="Rest well.")
    make_published(title="Insomnia basics", slug="insomnia", category=other)
    response = client.get(reverse("articles:category", kwargs={"slug": "relationships"}))
    assert response.status_code == 200
    main = _main(_html(response))
    assert "<h1>Relationships</h1>" in main
    assert "Couples, intimacy and family." in main
    assert "How Couples Therapy Can Address Intimacy Issues" in main
    assert "Insomnia basics" not in main
    sleep = _main(_html(client.get(reverse("articles:category", kwargs={"slug": "sleep"}))))
    assert "Insomnia basics" in sleep and "Couples Therapy" not in sleep


def test_category_without_published_articles_is_still_a_page(client, db):
    Category.objects.create(name="Empty topic", slug="empty-topic")
    response = client.get(reverse("articles:category", kwargs={"slug": "empty-topic"}))
    assert response.status_code == 200
    assert "no published articles in this category yet" in _html(response)


# --- The staff preview (paired: who may and who may not) ---------------------------------


@pytest.fixture
def pending_revision(published_article, make_article):
    make_article(
        article=Article.objects.get(pk=published_article.pk),
        title="Pending preview title",
        summary="Pending summary.",
        body="## Pending\n\nPending body.",
    )
    return submit(published_article)


def test_preview_of_a_pending_revision_for_staff_with_view_revision(
    client, writer, pending_revision
):
    client.force_login(writer)
    response = client.get(pending_revision.preview_url())
    assert response.status_code == 200
    html = _html(response)
    assert "Preview — not published" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "Pending preview title" in html and "Pending body." in html
    assert "Not yet medically reviewed" in html
    assert '<link rel="canonical"' not in html and "og:title" not in html
    assert "application/ld+json" not in html
    # The public page still shows the approved text.
    client.logout()
    public = _html(client.get(pending_revision.article.get_absolute_url()))
    assert "Pending preview title" not in public


def test_preview_for_each_staff_role(client, physician, editor, pending_revision):
    for user in (physician, editor):
        client.force_login(user)
        response = client.get(pending_revision.preview_url())
        assert response.status_code == 200, user
        assert pending_revision.title in response.content.decode()
        assert "noindex" in response["X-Robots-Tag"]


def test_preview_redirects_anonymous_readers_to_the_admin_login(client, pending_revision):
    url = pending_revision.preview_url()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=" in response["Location"]


def test_preview_is_404_for_logged_in_users_without_staff_or_permission(client, pending_revision):
    reader = make_user("reader")
    client.force_login(reader)
    assert client.get(pending_revision.preview_url()).status_code == 404
    # Staff without the permission…
    staff = make_user("staffer", is_staff=True)
    client.force_login(staff)
    assert client.get(pending_revision.preview_url()).status_code == 404
    # …and the permission without staff status.
    not_staff = make_user("notstaff")
    not_staff.user_permissions.add(
        Permission.objects.get(content_type__app_label="articles", codename="view_revision")
    )
    client.force_login(not_staff)
    assert client.get(pending_revision.preview_url()).status_code == 404
    # The same staff member gains access with the permission.
    staff.user_permissions.add(
        Permission.objects.get(content_type__app_label="articles", codename="view_revision")
    )
    client.force_login(User.objects.get(pk=staff.pk))
    assert client.get(pending_revision.preview_url()).status_code == 200


def test_preview_of_unknown_revision_is_404_for_staff(client, writer, published_article):
    client.force_login(writer)
    url = reverse(
        "articles:revision_preview", kwargs={"slug": published_article.slug, "number": 99}
    )
    assert client.get(url).status_code == 404


def test_preview_of_a_never_published_article(client, make_article):
    editor = make_user("editor2", "Editor")
    revision = submit(make_article(slug="fresh", title="Fresh draft title"))
    client.force_login(editor)
    html = _html(client.get(revision.preview_url()))
    assert "Fresh draft title" in html
    assert "This article is not on the public site." in html
