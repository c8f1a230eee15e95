"""Move the working copies' hero images and the reviewers' photos into the content-addressed
store: each file is decoded, re-encoded (dropping EXIF, GPS, comments and anything
appended) and stored as `images/<sha256>.<ext>`, and the row is pointed at that name.

Left alone:
- revisions (`articles_revision`): frozen by design and by a database trigger; the files
  they name are not deleted, so every revision keeps showing exactly what was approved;
- a row whose file is missing, or is not a picture the store accepts (too large, another
  format): it keeps its old name, and the writer or editor uploads the picture again.

An article whose hero image moved gets an empty `working_hash`: its working copy now names
different bytes from any revision, so the admin shows it as changed since the last review,
and the next save or submission recomputes the hash.
"""

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import migrations

STORE_PREFIX = "images/"


def _move(name, StoredImage, cache):
    """The stored name for the picture at `name`, or None to leave the row alone."""
    from images.services import prepare_image, write_prepared

    if not name or name.startswith(STORE_PREFIX):
        return None
    if name in cache:
        return cache[name]
    cache[name] = None
    if not default_storage.exists(name):
        return None
    try:
        with default_storage.open(name, "rb") as original:
            prepared = prepare_image(upload=original)
        write_prepared(prepared)
    except (ValidationError, OSError):
        return None
    fields = prepared.row()
    # Who uploaded these is not recorded anywhere: uploaded_by stays empty.
    StoredImage.objects.get_or_create(sha256=fields.pop("sha256"), defaults=fields)
    cache[name] = prepared.name
    return prepared.name


def forwards(apps, schema_editor):
    StoredImage = apps.get_model("images", "StoredImage")
    Article = apps.get_model("articles", "Article")
    Reviewer = apps.get_model("reviewers", "Reviewer")
    cache = {}
    articles = Article.objects.exclude(hero_image="").order_by("pk").values_list("pk", "hero_image")
    for pk, name in articles:
        stored = _move(name, StoredImage, cache)
        if stored is not None:
            Article.objects.filter(pk=pk).update(hero_image=stored, working_hash="")
    reviewers = Reviewer.objects.exclude(photo="").order_by("pk").values_list("pk", "photo")
    for pk, name in reviewers:
        stored = _move(name, StoredImage, cache)
        if stored is not None:
            Reviewer.objects.filter(pk=pk).update(photo=stored)


class Migration(migrations.Migration):
    dependencies = [
        ("images", "0001_initial"),
        ("articles", "0010_frozen_revision_content"),
        ("reviewers", "0002_review_signed_by"),
    ]

    # Backwards leaves the moved rows on their new names: the stored files stay valid.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
