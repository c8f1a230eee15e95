"""StoredImage rows are written once: the ORM and the database refuse changes."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from images.models import StoredImage
from images.services import store_image
from tests.builders import picture, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(media_root) -> StoredImage:
    return store_image(upload=upload("x.png", picture("PNG")), actor=None)


def test_a_stored_image_cannot_be_saved_again(image):
    image.width = 1
    with pytest.raises(ValueError, match="cannot be changed"):
        image.save()


def test_a_stored_image_cannot_be_deleted(image):
    with pytest.raises(ValueError, match="cannot be deleted"):
        image.delete()
    with pytest.raises(ValueError, match="cannot be deleted"):
        StoredImage.objects.filter(pk=image.pk).delete()
    assert StoredImage.objects.filter(pk=image.pk).exists()


def test_stored_images_cannot_be_updated_in_bulk(image):
    with pytest.raises(ValueError, match="cannot be changed"):
        StoredImage.objects.filter(pk=image.pk).update(file="images/other.png")


def test_the_database_refuses_an_update_too(image):
    """Raw SQL, fixtures or a script that goes around the model cannot repoint a hash."""
    table = StoredImage._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET file = %s WHERE id = %s", ["images/x.png", image.pk])  # noqa: S608
    assert StoredImage.objects.get(pk=image.pk).file.name == image.file.name
