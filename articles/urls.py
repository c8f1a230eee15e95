"""The public site: what readers see. Every article reaches a view through `published()`."""

from django.urls import path

from . import views
from .feeds import AtomFeed, RssFeed

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<slug:slug>/", views.article_detail, name="detail"),
    path("categories/", views.category_index, name="category_index"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("search/", views.search, name="search"),
    path("feed/", RssFeed(), name="feed_rss"),
    path("feed/atom/", AtomFeed(), name="feed_atom"),
    path(
        "preview/<slug:slug>/revisions/<int:number>/",
        views.revision_preview,
        name="revision_preview",
    ),
]
