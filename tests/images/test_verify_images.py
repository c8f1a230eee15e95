"""manage.py verify_images: every stored file still holds the bytes its SHA-256 names."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from images.services import store_image
from tests.builders import picture, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(media_root):
    return [
        store_image(upload=upload(f"{fmt}.bin", picture(fmt)), actor=None)
        for fmt in ("PNG", "JPEG", "GIF")
    ]


def test_intact_images_pass(stored, capsys):
    call_command("verify_images")
    assert "All 3 stored images match their SHA-256." in capsys.readouterr().out


def test_a_swapped_file_is_named_and_fails(stored, media_root):
    victim = stored[1]
    (media_root / victim.file.name).write_bytes(picture("JPEG", color=(0, 0, 0)))
    with pytest.raises(CommandError, match=rf"{victim.file.name}: the file's bytes no longer"):
        call_command("verify_images")


def test_a_single_changed_byte_is_caught(stored, media_root):
    path = media_root / stored[0].file.name
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CommandError, match=stored[0].file.name):
        call_command("verify_images")


def test_a_missing_file_is_named_and_fails(stored, media_root):
    (media_root / stored[2].file.name).unlink()
    with pytest.raises(CommandError, match=rf"{stored[2].file.name}: the file is missing"):
        call_command("verify_images")


def test_the_exit_status_is_non_zero(stored, media_root):
    """As run from cron or CI: `manage.py verify_images` exits 1."""
    (media_root / stored[0].file.name).write_bytes(b"swapped")
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["manage.py", "verify_images"]).execute()
    assert exit_.value.code == 1
