"""images 0002: existing hero images and reviewer photos move into the content-addressed
store, tested on a database built at the state before the images app existed.

Working copies and profiles are pointed at re-encoded, content-addressed files; revisions
are not touched, and neither are the files they name. A missing file, or one the store
would refuse, leaves its row as it was.
"""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from PIL import Image

from tests.builders import SECRET_COMMENT, jpeg_with_secrets, picture, stored_files
from tests.db_role_plugin import owner_privileges

# Schema changes need a real transaction on SQLite. No serialized rollback: the test needs no
# data from before it, and restoring a snapshot fails after another transactional test's
# flush has recreated the content types under new ids.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _as_the_owner(transactional_db):
    """Migrating is the owner's job: under DATABASE_APP_ROLE this test acts as the owner."""
    with owner_privileges():
        yield


BEFORE = [
    ("articles", "0010_frozen_revision_content"),
    ("reviewers", "0002_review_signed_by"),
    ("images", None),
]
AFTER = [("images", "0002_move_existing_pictures")]
CONTENT_ADDRESSED = re.compile(r"images/[0-9a-f]{64}\.(jpeg|png|gif|webp)")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.fixture
def old_apps(media_root):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _write(media_root, name: str, content: bytes) -> None:
    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def test_hero_images_and_photos_move_into_the_store_and_revisions_stay(old_apps, media_root):
    User = old_apps.get_model("auth", "User")
    Category = old_apps.get_model("articles", "Category")
    Article = old_apps.get_model("articles", "Article")
    Revision = old_apps.get_model("articles", "Revision")
    Reviewer = old_apps.get_model("reviewers", "Reviewer")

    photo = jpeg_with_secrets()
    _write(media_root, "articles/hero/couple.jpg", photo)
    _write(media_root, "reviewers/hrymoc.png", picture("PNG") + b"<script>alert(1)</script>")
    _write(media_root, "articles/hero/drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    files_before = stored_files(media_root)

    author = User.objects.create(username="old-writer")
    doctor = User.objects.create(username="old-doctor")
    category = Category.objects.create(name="Relationships", slug="relationships")

    def article(slug: str, hero: str):
        return Article.objects.create(
            slug=slug,
            category=category,
            author=author,
            title=slug,
            summary="Summary.",
            body="Body.",
            hero_image=hero,
            hero_image_alt="A picture",
            working_hash="b" * 64,
        )

    moved = article("moved", "articles/hero/couple.jpg")
    same_file = article("same-file", "articles/hero/couple.jpg")
    missing = article("missing", "articles/hero/gone.jpg")
    refused = article("refused", "articles/hero/drawing.svg")
    without = article("without", "")
    revision = Revision.objects.create(
        article=moved,
        number=1,
        title="moved",
        summary="Summary.",
        body="Body.",
        hero_image="articles/hero/couple.jpg",
        hero_image_alt="A picture",
        rendered_html="<p>Body.</p>",
        content_hash="b" * 64,
        created_by=author,
    )
    profile = Reviewer.objects.create(
        user=doctor,
        display_name="Mark Hrymoc",
        credentials="M.D.",
        slug="mark-hrymoc",
        photo="reviewers/hrymoc.png",
    )
    revision_before = Revision.objects.filter(pk=revision.pk).values().get()
    untouched_before = {
        a.pk: Article.objects.filter(pk=a.pk).values().get() for a in (missing, refused, without)
    }

    new_apps = _migrate(AFTER)
    StoredImage = new_apps.get_model("images", "StoredImage")
    Article = new_apps.get_model("articles", "Article")
    Revision = new_apps.get_model("articles", "Revision")
    Reviewer = new_apps.get_model("reviewers", "Reviewer")

    hero = Article.objects.get(pk=moved.pk)
    assert CONTENT_ADDRESSED.fullmatch(hero.hero_image.name)
    assert hero.hero_image.name.endswith(".jpeg")
    assert hero.working_hash == ""  # the working copy now differs from what was reviewed
    assert hero.version == moved.version
    assert Article.objects.get(pk=same_file.pk).hero_image.name == hero.hero_image.name

    data = (media_root / hero.hero_image.name).read_bytes()
    assert SECRET_COMMENT not in data and b"Exif\x00\x00" not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (20, 40)
    row = StoredImage.objects.get(file=hero.hero_image.name)
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert (row.format, row.width, row.height, row.size_bytes) == ("jpeg", 20, 40, len(data))
    assert row.uploaded_by_id is None

    photo_name = Reviewer.objects.get(pk=profile.pk).photo.name
    assert CONTENT_ADDRESSED.fullmatch(photo_name) and photo_name.endswith(".png")
    assert b"<script>" not in (media_root / photo_name).read_bytes()

    # Revisions keep their names, and every file they name is still there, unchanged.
    assert Revision.objects.filter(pk=revision.pk).values().get() == revision_before
    files_after = stored_files(media_root)
    for name, digest in files_before.items():
        assert files_after[name] == digest
    assert set(files_after) - set(files_before) == {hero.hero_image.name, photo_name}

    # A missing file, or one the store refuses, leaves its row as it was.
    for pk, before in untouched_before.items():
        assert Article.objects.filter(pk=pk).values().get() == before
    assert StoredImage.objects.count() == 2


def test_the_migration_runs_on_an_empty_database(old_apps, media_root):
    new_apps = _migrate(AFTER)
    assert new_apps.get_model("images", "StoredImage").objects.count() == 0
    assert stored_files(media_root) == {}
