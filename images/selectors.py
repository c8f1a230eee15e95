"""Which stored picture an address in an article body shows."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from .models import StoredImage
from .services import STORED_NAME


def images_by_url(urls: Iterable[str]) -> dict[str, StoredImage]:
    """For each URL as written in an article body, the StoredImage it resolves to.

    A URL resolves when it is exactly MEDIA_URL + `images/<sha256>.<ext>` (or, for a
    site-relative MEDIA_URL, SITE_URL + MEDIA_URL + that name) and such a row exists. Any
    other URL (another folder, a query string, a different spelling) is absent from the
    result. One query, or none when no URL has the stored-name shape.
    """
    wanted: dict[str, list[str]] = {}
    for url in urls:
        name = _stored_name(url)
        if name is not None:
            wanted.setdefault(name, []).append(url)
    if not wanted:
        return {}
    found: dict[str, StoredImage] = {}
    for image in StoredImage.objects.filter(file__in=list(wanted)):
        name = image.file.name or ""
        match = STORED_NAME.fullmatch(name)
        if match is None or match["sha256"] != image.sha256:
            continue  # a row whose name and hash disagree shows nothing
        for url in wanted[name]:
            found[url] = image
    return found


def _prefixes() -> list[str]:
    media_url = settings.MEDIA_URL
    prefixes = [media_url]
    if media_url.startswith("/"):
        prefixes.append(settings.SITE_URL.rstrip("/") + media_url)
    return prefixes


def _stored_name(url: str) -> str | None:
    if not isinstance(url, str):
        return None
    for prefix in _prefixes():
        if url.startswith(prefix):
            name = url[len(prefix) :]
            if STORED_NAME.fullmatch(name):
                return name
    return None
