"""Admin building blocks shared by the apps."""

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def staff_user(request: HttpRequest) -> User:
    """The account behind an admin request, as the workflow records it. The admin site
    lets only active staff in, so an anonymous user here is refused, never passed on."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class RecordAdmin(admin.ModelAdmin):
    """For records nobody may add, change or delete in the admin, superusers included:
    revisions, reviews and audit events are written only by the workflow."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}
