"""A URLconf for the page cache's own tests: marked views that misbehave."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from pagecache.decorators import public_page

calls: list[str] = []


@public_page
def sets_a_cookie(request: HttpRequest) -> HttpResponse:
    calls.append("cookie")
    response = HttpResponse("personal")
    response.set_cookie("seen", "1")
    return response


@public_page
def varies(request: HttpRequest) -> HttpResponse:
    calls.append("varies")
    response = HttpResponse("depends on the language")
    response["Vary"] = "Accept-Language"
    return response


def unmarked(request: HttpRequest) -> HttpResponse:
    calls.append("unmarked")
    return HttpResponse("not a public page")


urlpatterns = [
    path("cookie/", sets_a_cookie),
    path("varies/", varies),
    path("unmarked/", unmarked),
    path("", include("clinic_site.urls")),
]
