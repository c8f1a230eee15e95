"""Re-hash every stored picture; exit non-zero naming the first one missing or changed."""

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from images.models import StoredImage
from images.services import STORED_NAME, file_sha256


class Command(BaseCommand):
    help = (
        "Check that every stored image file still holds the bytes its SHA-256 names "
        "(exit status 1 at the first file missing or changed)."
    )

    def handle(self, *args, **options):
        checked = 0
        for image in StoredImage.objects.order_by("pk").iterator():
            name = image.file.name or ""
            match = STORED_NAME.fullmatch(name)
            if match is None or match["sha256"] != image.sha256:
                raise CommandError(f"{name}: the name does not match the recorded SHA-256.")
            missing = CommandError(f"{name}: the file is missing.")
            if not default_storage.exists(name):
                raise missing
            try:
                actual = file_sha256(name)
            except FileNotFoundError:
                raise missing from None
            if actual != image.sha256:
                raise CommandError(
                    f"{name}: the file's bytes no longer match its SHA-256 (it was changed or "
                    f"swapped; it now hashes to {actual})."
                )
            checked += 1
        self.stdout.write(f"All {checked} stored images match their SHA-256.")
