"""Settings for the test suite: the production settings, minus HTTPS redirects.

Tests run with DEBUG off, as production does, so they see the same 404 pages, the same
static storage rules and the same security middleware.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-suite-only-key-not-used-anywhere-else-0123456789")

from .settings import *  # noqa: E402,F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DEMO_CONTENT_ALLOWED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}
# Serve static files straight from the app folders: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
# The test client's login() authenticates without a request, which django-axes refuses;
# the lock-out tests switch it on for themselves.
AXES_ENABLED = False
PAGE_CACHE_HEADER = True  # the page cache's tests read X-Page-Cache
