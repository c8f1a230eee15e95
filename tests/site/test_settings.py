"""Settings come from the environment, refuse bad values with one clear message, and are
safe by default (DEBUG off, HTTPS hardening on, no secret without SECRET_KEY)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic_site.env import env_bool, env_int, env_list, env_str

REPO = Path(__file__).resolve().parents[2]
SECRET = "a-long-random-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

# Only what a process needs to run; nothing of the test suite's own environment (which
# sets SECRET_KEY for clinic_site.test_settings) leaks into the child.
BASE_ENV = {
    key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "clinic_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run(["manage.py", *args], **env)


_DUMP = """
import json
import clinic_site.settings as s
names = {names!r}
print(json.dumps({{n: getattr(s, n, None) for n in names}}, default=str))
"""


def load_settings(*names: str, **env: str) -> dict:
    """Import the production settings module in a child process with exactly `env`."""
    result = run(["-c", _DUMP.format(names=list(names))], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def error_line(stderr: str) -> str:
    """The line that says what is wrong (Python prints it last, after any traceback)."""
    return stderr.strip().splitlines()[-1]


# --- SECRET_KEY and DEBUG ----------------------------------------------------------------


def test_missing_secret_key_in_production_refuses_to_start_with_a_clear_message():
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    line = error_line(result.stderr)
    assert "SECRET_KEY is not set" in line
    assert "SECRET_KEY environment variable" in line
    # One line tells the whole story: what is missing and the two ways out.
    assert "DEBUG=1" in line
    assert "ImproperlyConfigured" in line


def test_missing_secret_key_is_refused_when_debug_is_not_set_at_all():
    result = manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in error_line(result.stderr)


def test_empty_secret_key_counts_as_missing():
    result = manage("check", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in error_line(result.stderr)


def test_with_a_secret_key_and_debug_off_the_check_passes():
    result = manage("check", DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="clinic.example")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_on_without_secret_key_uses_a_development_key():
    values = load_settings("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", DEBUG="1")
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"]
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_debug_defaults_to_off():
    values = load_settings("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", SECRET_KEY=SECRET)
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == SECRET
    assert values["ALLOWED_HOSTS"] == []


def test_invalid_debug_value_is_refused_naming_the_variable():
    result = manage("check", DEBUG="maybe", SECRET_KEY=SECRET)
    assert result.returncode != 0
    line = error_line(result.stderr)
    assert "DEBUG must be a boolean" in line
    assert "'maybe'" in line


# --- HTTPS hardening and hosts -----------------------------------------------------------


def test_production_turns_https_hardening_on():
    values = load_settings(
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "X_FRAME_OPTIONS",
        "SECURE_PROXY_SSL_HEADER",
        DEBUG="0",
        SECRET_KEY=SECRET,
    )
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_development_turns_https_hardening_off():
    values = load_settings(
        "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS", DEBUG="1"
    )
    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
    }


def test_proxy_header_is_trusted_only_when_asked():
    values = load_settings(
        "SECURE_PROXY_SSL_HEADER", DEBUG="0", SECRET_KEY=SECRET, SECURE_PROXY_SSL_HEADER="1"
    )
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_hosts_and_trusted_origins_are_comma_separated_lists():
    values = load_settings(
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS=" clinic.example, www.clinic.example ,",
        CSRF_TRUSTED_ORIGINS="https://clinic.example",
    )
    assert values["ALLOWED_HOSTS"] == ["clinic.example", "www.clinic.example"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://clinic.example"]


# --- Database, cache, storage ------------------------------------------------------------

_DB = """
import json
import clinic_site.settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"),
    "cache": s.CACHES["default"]["BACKEND"], "storage": s.STORAGES["default"]["BACKEND"],
    "static": s.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def database_settings(**env) -> dict:
    result = run(["-c", _DB], DEBUG="0", SECRET_KEY=SECRET, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sqlite_is_the_default_database():
    values = database_settings()
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("db.sqlite3")
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["storage"] == "django.core.files.storage.FileSystemStorage"
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_database_url_selects_postgresql_and_redis_url_the_redis_cache():
    values = database_settings(
        DATABASE_URL="postgres://clinic@db.internal:5432/clinic",
        REDIS_URL="redis://cache.internal:6379/0",
        AWS_STORAGE_BUCKET_NAME="clinic-media",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "clinic"
    assert values["host"] == "db.internal"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["storage"] == "storages.backends.s3.S3Storage"


# --- SITE_URL -----------------------------------------------------------------------------


def test_site_url_comes_from_the_environment_without_a_trailing_slash():
    # `make run` sets it to the address it serves, http://127.0.0.1:$PORT.
    values = load_settings("SITE_URL", DEBUG="1", SITE_URL="http://127.0.0.1:8830/")
    assert values["SITE_URL"] == "http://127.0.0.1:8830"
    assert load_settings("SITE_URL", DEBUG="1")["SITE_URL"] == "http://127.0.0.1:8000"


# --- The clinic, citations, review interval ----------------------------------------------


def test_clinic_details_come_from_the_environment():
    values = load_settings(
        "CLINIC_NAME",
        "CLINIC_PHONE",
        "CLINIC_CTA_HEADING",
        DEBUG="0",
        SECRET_KEY=SECRET,
        CLINIC_NAME="Harbor Clinic",
        CLINIC_PHONE="(555) 010-0000",
    )
    assert values == {
        "CLINIC_NAME": "Harbor Clinic",
        "CLINIC_PHONE": "(555) 010-0000",
        "CLINIC_CTA_HEADING": "Seek Support",
    }


def test_citation_style_defaults_to_apa_and_accepts_ama_in_any_case():
    assert load_settings("CITATION_STYLE", DEBUG="1")["CITATION_STYLE"] == "apa"
    assert load_settings("CITATION_STYLE", DEBUG="1", CITATION_STYLE="AMA")["CITATION_STYLE"] == (
        "ama"
    )


def test_invalid_citation_style_is_refused_with_a_clear_message():
    result = manage("check", DEBUG="0", SECRET_KEY=SECRET, CITATION_STYLE="chicago")
    assert result.returncode != 0
    line = error_line(result.stderr)
    assert "CITATION_STYLE must be 'apa' or 'ama'" in line


def test_review_interval_defaults_to_twelve_months_and_can_be_set():
    assert load_settings("REVIEW_INTERVAL_DAYS", DEBUG="1")["REVIEW_INTERVAL_DAYS"] == 365
    values = load_settings("REVIEW_INTERVAL_DAYS", DEBUG="1", REVIEW_INTERVAL_DAYS="180")
    assert values["REVIEW_INTERVAL_DAYS"] == 180


def test_invalid_review_interval_is_refused_with_a_clear_message():
    result = manage("check", DEBUG="1", REVIEW_INTERVAL_DAYS="a year")
    assert result.returncode != 0
    line = error_line(result.stderr)
    assert "REVIEW_INTERVAL_DAYS must be a whole number" in line
    assert "'a year'" in line


# --- clinic_site.env ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_env_bool_true_values(monkeypatch, raw):
    monkeypatch.setenv("CLINIC_FLAG", raw)
    assert env_bool("CLINIC_FLAG", default=False) is True


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", "", "  "])
def test_env_bool_false_values(monkeypatch, raw):
    monkeypatch.setenv("CLINIC_FLAG", raw)
    assert env_bool("CLINIC_FLAG", default=True) is False


def test_env_bool_unset_uses_the_default(monkeypatch):
    monkeypatch.delenv("CLINIC_FLAG", raising=False)
    assert env_bool("CLINIC_FLAG", default=True) is True
    assert env_bool("CLINIC_FLAG", default=False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "tru"])
def test_env_bool_refuses_anything_else_with_a_clear_message(monkeypatch, raw):
    monkeypatch.setenv("CLINIC_FLAG", raw)
    with pytest.raises(ImproperlyConfigured) as refusal:
        env_bool("CLINIC_FLAG", default=False)
    message = str(refusal.value)
    assert "CLINIC_FLAG" in message
    assert "boolean" in message
    assert repr(raw) in message


def test_env_int(monkeypatch):
    monkeypatch.delenv("CLINIC_NUMBER", raising=False)
    assert env_int("CLINIC_NUMBER", default=7) == 7
    monkeypatch.setenv("CLINIC_NUMBER", "  ")
    assert env_int("CLINIC_NUMBER", default=7) == 7
    monkeypatch.setenv("CLINIC_NUMBER", "42")
    assert env_int("CLINIC_NUMBER", default=7) == 42
    monkeypatch.setenv("CLINIC_NUMBER", "4.5")
    with pytest.raises(ImproperlyConfigured, match=r"CLINIC_NUMBER must be a whole number"):
        env_int("CLINIC_NUMBER", default=7)


def test_env_list_and_str(monkeypatch):
    monkeypatch.delenv("CLINIC_ITEMS", raising=False)
    assert env_list("CLINIC_ITEMS", default=["x"]) == ["x"]
    monkeypatch.setenv("CLINIC_ITEMS", "a, b,,c ")
    assert env_list("CLINIC_ITEMS", default=[]) == ["a", "b", "c"]
    monkeypatch.setenv("CLINIC_ITEMS", "")
    assert env_list("CLINIC_ITEMS", default=["x"]) == []
    assert env_str("CLINIC_ITEMS", default="d") == ""
    monkeypatch.delenv("CLINIC_ITEMS")
    assert env_str("CLINIC_ITEMS", default="d") == "d"


# --- The test settings themselves --------------------------------------------------------


def test_the_suite_runs_with_debug_off_like_production(settings):
    assert settings.DEBUG is False
    assert settings.SECURE_SSL_REDIRECT is False  # the test client speaks plain HTTP
    assert "testserver" in settings.ALLOWED_HOSTS


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """Every query here is short; JIT compilation only added ~20 ms to deep list pages."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
