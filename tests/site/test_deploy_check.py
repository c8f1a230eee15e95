"""`manage.py check --deploy` is clean under the production settings (the Makefile's
`check-deploy` target), and flags a production configuration that is not."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
BASE_ENV = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "clinic_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides: str) -> dict:
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "clinic.example",
    }
    env.update(overrides)
    return env


def test_makefile_check_deploy_target_runs_this_exact_check():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("check-deploy:", 1)[1].split("\n\n", 1)[0]
    assert "DEBUG=0" in recipe
    assert "SECRET_KEY=" in recipe
    assert "ALLOWED_HOSTS=" in recipe
    assert "manage.py check --deploy --fail-level WARNING" in recipe


def test_deploy_check_is_clean_under_production_settings():
    result = check_deploy(**production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_is_clean_when_hsts_preload_is_chosen():
    result = check_deploy(**production_env(SECURE_HSTS_PRELOAD="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_https_hardening_is_switched_off():
    result = check_deploy(
        **production_env(SECURE_HSTS_PRELOAD="1", SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "security.W008" in output  # SECURE_SSL_REDIRECT
    assert "security.W004" in output  # SECURE_HSTS_SECONDS


def test_deploy_check_fails_with_a_short_secret_key():
    result = check_deploy(**production_env(SECURE_HSTS_PRELOAD="1", SECRET_KEY="short"))
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_deploy_check_fails_with_debug_on():
    result = check_deploy(**production_env(SECURE_HSTS_PRELOAD="1", DEBUG="1"))
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


# --- A fresh production database migrates ------------------------------------------------


def migrate(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env={**BASE_ENV, **production_env(), "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_fresh_sqlite_database_migrates(tmp_path):
    result = migrate(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Applying articles.0004_append_only_audit... OK" in result.stdout


def _postgres_server_url() -> str:
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        return urlsplit(configured)._replace(path="/postgres").geturl()
    return "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def fresh_postgres_database():
    psycopg = pytest.importorskip("psycopg")
    server = _postgres_server_url()
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL server at {server}: {error}")
    name = f"clinic_migrate_check_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(server)._replace(path=f"/{name}").geturl()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_fresh_postgresql_database_migrates(fresh_postgres_database):
    """Regression: 0004 once passed its PL/pgSQL (with a literal %) through psycopg's
    placeholder parser, and migrating PostgreSQL failed."""
    result = migrate(fresh_postgres_database)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Applying articles.0004_append_only_audit... OK" in result.stdout
