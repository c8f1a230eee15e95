"""Public reviewer profiles: who they are and what they reviewed."""

from django.urls import path

from . import views

app_name = "reviewers"

urlpatterns = [
    path("", views.reviewer_index, name="index"),
    path("<slug:slug>/", views.reviewer_detail, name="detail"),
]
