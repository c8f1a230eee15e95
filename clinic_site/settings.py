"""Settings for the clinic articles site.

Every secret and host-specific value comes from the environment. With DEBUG off (the
default) the site refuses to start without a SECRET_KEY, and the HTTPS hardening that
`manage.py check --deploy` asks for is on.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set the SECRET_KEY environment variable "
            "(a long random string) or set DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-debug-is-on"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "markdownx",
    "clinic_site",
    "pagecache",
    "images",
    "references",
    "reviewers",
    "articles",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "clinic_site.headers.PermissionsPolicyMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic_site.urls"
WSGI_APPLICATION = "clinic_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic_site.context_processors.clinic",
            ],
        },
    },
]

# SQLite is the embedded default so a fresh clone runs with no server; DATABASE_URL
# selects PostgreSQL (psycopg 3) in production.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share the file: take the write lock when a transaction
    # starts and wait for it, rather than failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions stay in the database and the cache in Redis, so app servers are stateless.
REDIS_URL = env_str("REDIS_URL", default="")
CACHES: dict[str, dict[str, Any]]
# "pages" holds whole public pages (pagecache): shared by every app server through Redis;
# without Redis each worker keeps its own few hundred pages in memory.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "clinic-pages",
            # A Redis that stops answering costs a reader a fraction of a second (then the
            # page is rendered), not the client library's default of seconds.
            "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
            "OPTIONS": {"MAX_ENTRIES": env_int("PAGE_CACHE_MAX_ENTRIES", default=500)},
        },
    }
# --- The public page cache (pagecache/) ---------------------------------------------------
# How long a stored page may live at most; pages are retired at once by any public change
# whatever this says (pagecache/middleware.py).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", default=24 * 3600)
# Seconds a CDN in front of the site may serve a public page without asking: 0 (the
# default) makes it revalidate every time (a 304 is cheap), so an unpublished article
# leaves the CDN as soon as it leaves the site. More than 0 trades that for fewer requests.
PUBLIC_CDN_MAX_AGE = env_int("PUBLIC_CDN_MAX_AGE", default=0)
# Names the release in cache keys; empty: a fingerprint of code, templates and settings.
PAGE_CACHE_RELEASE = env_str("PAGE_CACHE_RELEASE", default="")
# Label responses X-Page-Cache: hit, miss or bypass. For tests and benchmarks only: on a
# public site it tells anyone whether somebody read a page since the last change.
PAGE_CACHE_HEADER = env_bool("PAGE_CACHE_HEADER", default=False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", default="America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT: Path | None = BASE_DIR / "staticfiles"  # None in the test settings
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env_str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Media go to S3-compatible storage when a bucket is configured, so any app server can
# read what another one stored.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", default="") or None,
            "custom_domain": env_str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "file_overwrite": False,
            # Public media, unsigned links: a signed link expires (an hour by default)
            # while a cached page that shows it lives on.
            "querystring_auth": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail: the console by default; SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", default="")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="articles@clinic.invalid")
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# HTTPS hardening, on unless DEBUG. Behind a TLS-terminating proxy set
# SECURE_PROXY_SSL_HEADER=1 so Django trusts X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Preload is what check --deploy asks for; a clinic not ready to commit its domain to the
# browsers' HSTS lists sets SECURE_HSTS_PRELOAD=0.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# --- Throttling: password guessing (django-axes) ------------------------------------------
# The admin login and the physician's approval password share one count of failures, per
# account and, separately, per address; past the limit both refuse until the cool-off ends.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no banner on every management command
# Behind a TLS-terminating proxy the client's address is in X-Forwarded-For.
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if env_bool("SECURE_PROXY_SSL_HEADER", default=False)
    else ["REMOTE_ADDR"]
)

# --- Content-Security-Policy (django-csp) and Permissions-Policy --------------------------
# Public pages run no script at all; the admin and the editor's live preview run only this
# site's own files. Nothing is framed but the staff preview, by the review page.
# Media on another host (S3 or a CDN) when MEDIA_URL is an absolute address.
_MEDIA_HOSTS = (
    ["{0.scheme}://{0.netloc}".format(urlsplit(MEDIA_URL))]
    if MEDIA_URL.startswith(("https://", "http://"))
    else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_MEDIA_HOSTS],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=(), browsing-topics=()"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}

# --- The clinic -------------------------------------------------------------------------
CLINIC_NAME = env_str("CLINIC_NAME", default="Mental Health Center")
CLINIC_LOCATION = env_str("CLINIC_LOCATION", default="Los Angeles")
CLINIC_PHONE = env_str("CLINIC_PHONE", default="(310) 601-9999")
CLINIC_URL = env_str("CLINIC_URL", default="")
CLINIC_CTA_HEADING = env_str("CLINIC_CTA_HEADING", default="Seek Support")
CLINIC_CTA_TEXT = env_str(
    "CLINIC_CTA_TEXT",
    default=(
        "Our psychiatrists, psychiatric nurse practitioners and therapists deliver kind, "
        "compassionate and non-judgemental care. Your journey toward healing and recovery "
        "starts today."
    ),
)

# --- Citations and review ---------------------------------------------------------------
CITATION_STYLE = env_str("CITATION_STYLE", default="apa").lower()
if CITATION_STYLE not in {"apa", "ama"}:
    raise ImproperlyConfigured("CITATION_STYLE must be 'apa' or 'ama'.")
REVIEW_INTERVAL_DAYS = env_int("REVIEW_INTERVAL_DAYS", default=365)
# load_demo creates staff accounts with a published password: only where that is harmless.
DEMO_CONTENT_ALLOWED = env_bool("DEMO_CONTENT_ALLOWED", default=DEBUG)

# --- Markdown editor (django-markdownx) -------------------------------------------------
# The live preview calls exactly the renderer the public page uses.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "articles.rendering.markdownify_preview"
MARKDOWNX_URLS_PATH = "/admin/markdownx/markdownify/"
# Uploads from the editor go through images.services (clinic_site/uploads.py), not
# markdownx's own form: its path, size, type and resize settings do not apply.
MARKDOWNX_UPLOAD_URLS_PATH = "/admin/markdownx/upload/"
MARKDOWNX_SERVER_CALL_LATENCY = 400

LOGIN_URL = "admin:login"

# --- Request size and database outages (clinic_site/middleware.py) ----------------------
# Bodies over MAX_REQUEST_BYTES are refused (413) from their Content-Length before anything
# reads them. The largest legitimate bodies are a 5 MB picture and a 5 MB reference file or
# paste (images/services.py, references/importing): the limit must leave room for those.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", default=10 * 1024 * 1024)
if MAX_REQUEST_BYTES < 6 * 1024 * 1024:
    raise ImproperlyConfigured(
        "MAX_REQUEST_BYTES must be at least 6 MB (6291456): pictures and reference files of "
        "up to 5 MB are uploaded in one request."
    )
# Form fields (not files) up to the whole request: the reference import posts up to 5 MB of
# BibTeX as a field, and its form's own message explains a refusal better than a bare 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# Django decides by the whole request's length: every request that passes the limit keeps
# its files in memory (10 MB at most per worker) and nothing is spooled to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# The admin's largest form is a change list's action over up to 200 selected rows; no form
# takes more than a few files (the editor uploads one picture per request).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# While the database cannot be reached every page answers 503 with this Retry-After.
DATABASE_UNAVAILABLE_RETRY_AFTER = 30
# A PostgreSQL host that does not answer (rather than refuses) would hold each request
# until gunicorn kills the worker: give up connecting after this many seconds (a 503).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    # Short queries only: PostgreSQL's JIT compiled a deep list page's plan on every request
    # (about 20 ms of a 73 ms page at 100,000 articles, bench/results/latest.md).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
MIDDLEWARE = [
    "clinic_site.middleware.RequestSizeLimitMiddleware",
    "clinic_site.middleware.DatabaseUnavailableMiddleware",
    # Outside everything else: a hit skips sessions, CSRF, auth and the view, and is
    # served with the headers those added when the page was stored.
    "pagecache.middleware.PublicPageCacheMiddleware",
    *MIDDLEWARE,
]
