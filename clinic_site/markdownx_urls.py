"""django-markdownx's preview and upload endpoints, for logged-in staff only.

Out of the box both accept anyone; the preview would render arbitrary input for the world
and the upload would store whatever a client labels an image. Here the preview runs the
public renderer (which sanitizes), and uploads must really be raster images.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.views.decorators.http import require_POST
from markdownx.views import ImageUploadView, MarkdownifyView

from .uploads import RasterImageForm


def staff_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class RasterImageUploadView(ImageUploadView):
    form_class = RasterImageForm


urlpatterns = [
    path(
        "markdownify/",
        staff_only(require_POST(MarkdownifyView.as_view())),
        name="markdownx_markdownify",
    ),
    path(
        "upload/",
        staff_only(require_POST(RasterImageUploadView.as_view())),
        name="markdownx_upload",
    ),
]
