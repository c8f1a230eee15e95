"""What else a cached page depends on: the code, templates, static files and settings.

A deploy changes none of the database, so the public version alone would keep serving
pages rendered by the previous release from a shared Redis. Every key also carries this
fingerprint, computed once per process: a new release (or a changed CLINIC_* setting)
starts with an empty cache of its own, and two releases running side by side during a
rolling deploy never serve each other's pages.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings

# Settings that appear in pages.
PAGE_SETTINGS = (
    "SITE_URL",
    "STATIC_URL",
    "MEDIA_URL",
    "LANGUAGE_CODE",
    "TIME_ZONE",
    "CITATION_STYLE",
    "CLINIC_NAME",
    "CLINIC_LOCATION",
    "CLINIC_PHONE",
    "CLINIC_URL",
    "CLINIC_CTA_HEADING",
    "CLINIC_CTA_TEXT",
    "CONTENT_SECURITY_POLICY",
    "PERMISSIONS_POLICY",
    "PUBLIC_CDN_MAX_AGE",
    # Headers the security middleware adds to a stored page, and where media links point.
    "STORAGES",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "X_FRAME_OPTIONS",
)


def _project_files() -> list[Path]:
    base = Path(settings.BASE_DIR).resolve()
    roots = [base / "templates"]
    for app in apps.get_app_configs():
        path = Path(app.path).resolve()
        if path.is_relative_to(base):
            roots.append(path)
    files: set[Path] = set()
    for root in roots:
        if root.is_dir():
            files.update(p for p in root.rglob("*") if p.suffix in {".py", ".html", ".txt"})
    if settings.STATIC_ROOT:  # the hashed names of CSS and images in production
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if manifest.exists():
            files.add(manifest)
    return sorted(files)


@functools.cache
def release() -> str:
    configured = getattr(settings, "PAGE_CACHE_RELEASE", "")
    if configured:
        return configured
    digest = hashlib.sha256(f"django {django.__version__}\n".encode())
    for name in PAGE_SETTINGS:
        digest.update(f"{name}={getattr(settings, name, None)!r}\n".encode())
    base = Path(settings.BASE_DIR).resolve()
    for path in _project_files():
        digest.update(str(path.relative_to(base) if path.is_relative_to(base) else path).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
