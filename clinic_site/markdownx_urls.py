"""django-markdownx's preview and upload endpoints, for logged-in staff only.

Out of the box both accept anyone; the preview would render arbitrary input for the world
and the upload would store whatever a client labels an image. Here the preview runs the
public renderer (which sanitizes), and uploads go through images.services: real raster
images only, re-encoded and stored under their content hash.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_POST
from markdownx.views import ImageUploadView, MarkdownifyView

from .uploads import RasterImageForm


def staff_only(view, *, permission: str | None = None):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            raise PermissionDenied
        if permission and not user.has_perm(permission):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class PreviewView(MarkdownifyView):
    def post(self, request, *args, **kwargs) -> HttpResponse:
        if "content" not in request.POST:
            return HttpResponseBadRequest("Nothing to preview: the form sent no content.")
        return super().post(request, *args, **kwargs)


class RasterImageUploadView(ImageUploadView):
    """Always answers in JSON: markdownx's own view has no page to render otherwise."""

    form_class = RasterImageForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def form_invalid(self, form) -> JsonResponse:
        return JsonResponse(form.errors, status=400)

    def form_valid(self, form) -> JsonResponse:
        return JsonResponse({"image_code": form.image_code()})


urlpatterns = [
    path(
        "markdownify/",
        staff_only(require_POST(PreviewView.as_view())),
        name="markdownx_markdownify",
    ),
    path(
        "upload/",
        # Only those who write articles store files.
        staff_only(
            require_POST(RasterImageUploadView.as_view()), permission="articles.change_article"
        ),
        name="markdownx_upload",
    ),
]
