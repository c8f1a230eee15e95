from django.contrib import admin

from clinic_site.admin_mixins import RecordAdmin

from .models import Review, Reviewer


@admin.register(Reviewer)
class ReviewerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "credentials", "title", "active"]
    list_filter = ["active"]
    search_fields = ["display_name", "user__username", "specialties"]
    prepopulated_fields = {"slug": ["display_name"]}
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        # A profile's account is fixed once created: past signatures stay attributable.
        return ["user"] if obj is not None else []


@admin.register(Review)
class ReviewAdmin(RecordAdmin):
    """Signed decisions: readable by staff with the permission, changeable by nobody."""

    list_display = ["created_at", "decision", "reviewer_name", "revision"]
    list_filter = ["decision"]
    list_select_related = ["revision"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
