"""The public site: what readers see. Every article reaches a view through `published()`."""

from django.urls import path

from pagecache.decorators import public_page

from . import views
from .feeds import AtomFeed, RssFeed

app_name = "articles"

urlpatterns = [
    path("", public_page(views.home, paginated=True), name="home"),
    path("articles/<slug:slug>/", public_page(views.article_detail), name="detail"),
    path("categories/", public_page(views.category_index), name="category_index"),
    path(
        "categories/<slug:slug>/",
        public_page(views.category_detail, paginated=True),
        name="category",
    ),
    path("search/", public_page(views.search, store=False), name="search"),
    path("feed/", public_page(RssFeed()), name="feed_rss"),
    path("feed/atom/", public_page(AtomFeed()), name="feed_atom"),
    path(
        "preview/<slug:slug>/revisions/<int:number>/",
        views.revision_preview,
        name="revision_preview",
    ),
]
