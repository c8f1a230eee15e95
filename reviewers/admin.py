from django import forms
from django.contrib import admin

from clinic_site.admin_mixins import staff_user
from clinic_site.text import CleanTextAdminMixin
from images.forms import StoredImageFormMixin, UploadedPictureField

from .models import Reviewer


class ReviewerAdminForm(StoredImageFormMixin, forms.ModelForm):
    # A new photo is re-encoded and stored under its hash (images.services): the profile
    # names that content-addressed file, never the uploader's file name.
    stored_image_fields = ("photo",)

    class Meta:
        model = Reviewer
        # Every field, as the admin showed before this form existed: the admin's own
        # options (readonly user, prepopulated slug) still decide the rest.
        fields = "__all__"  # noqa: DJ007
        field_classes = {"photo": UploadedPictureField}


@admin.register(Reviewer)
class ReviewerAdmin(CleanTextAdminMixin, admin.ModelAdmin):
    form = ReviewerAdminForm
    list_display = ["display_name", "credentials", "title", "active"]
    list_filter = ["active"]
    search_fields = ["display_name", "user__username", "specialties"]
    prepopulated_fields = {"slug": ["display_name"]}
    # Pick the account by name (the User admin's search: username, first and last name,
    # e-mail), not by typing its numeric id.
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        # A profile's account is fixed once created: past signatures stay attributable.
        return ["user"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # A class built for this request: pictures it stores are recorded as this user's.
        if issubclass(form, StoredImageFormMixin):
            form.uploaded_by = staff_user(request)
        return form
