# Two commands on a fresh clone: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test test-app-role test-fast lint format check-deploy validate-html bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Serve the demo site under gunicorn (static files by whitenoise) on SQLite by default,
# with the scheduler (manage.py run_scheduler) beside it publishing scheduled revisions.
# Ctrl-C stops both; so does gunicorn ending for any other reason. Links in e-mails, feeds
# and the sitemap point at the address served, unless SITE_URL says otherwise.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	DEBUG=$${DEBUG-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG-1} $(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=$${DEBUG-1} $(PY) manage.py load_demo
	DEBUG=$${DEBUG-1} $(PY) manage.py run_scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT; trap 'exit 130' INT TERM; \
	DEBUG=$${DEBUG-1} $(VENV)/bin/gunicorn clinic_site.wsgi:application \
		--bind 127.0.0.1:$(PORT) --workers 2 --access-logfile -

# The whole suite: SQLite by default, PostgreSQL when DATABASE_URL is set. Browser tests
# run when Debian's Chromium is installed and are reported as skipped when it is not.
test: $(STAMP)
	$(VENV)/bin/pytest

# The suite on PostgreSQL with the application role's privileges, as production runs:
# migrations as the owner, every test as DATABASE_APP_ROLE (tests/db_role_plugin.py).
test-app-role: $(STAMP)
	@case "$$DATABASE_URL" in postgres*) ;; \
		*) echo "test-app-role needs DATABASE_URL=postgres://..." >&2; exit 2 ;; esac
	DATABASE_APP_ROLE=$${DATABASE_APP_ROLE:-clinic_app} $(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: $(STAMP)
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		ALLOWED_HOSTS=clinic.example $(PY) manage.py check --deploy --fail-level WARNING

# W3C Nu HTML checker over every public page type (needs Java and `npm ci`).
validate-html: $(STAMP)
	$(VENV)/bin/pytest tests/site/test_html_validity.py -rs

# Every benchmark of issue 13 side by side (bench/harness.py, about 10 minutes): public
# pages against a bare Django view under gunicorn and wrk, worker memory, rendering and
# import, 100,000 articles on PostgreSQL. Writes bench/results/latest.md; says what it
# skips without wrk, PostgreSQL or Redis on 127.0.0.1.
bench: $(STAMP)
	$(PY) bench/harness.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache

# --- Operations: backups (clinic_site/backups.py) and the soak test (bench/soak.py) ---
.PHONY: backup restore soak two-servers

# Back up the database (DATABASE_URL; on PostgreSQL as the owner of the tables) to
# BACKUP_FILE, default backups/clinic-<time>.pgdump (pg_dump custom format) or .sqlite3.
backup: $(STAMP)
	DEBUG=$${DEBUG-1} $(PY) manage.py backup_db $(if $(BACKUP_FILE),--output "$(BACKUP_FILE)")

# Restore BACKUP_FILE into the (empty) database; REPLACE=1 drops what is there first.
# On PostgreSQL APP_DB_ROLE=clinic_app re-grants the site's role (create_app_role) after.
restore: $(STAMP)
	@test -n "$(BACKUP_FILE)" || { echo "make restore needs BACKUP_FILE=path/to/backup" >&2; exit 2; }
	DEBUG=$${DEBUG-1} $(PY) manage.py restore_db "$(BACKUP_FILE)" \
		$(if $(filter 1,$(REPLACE)),--replace) $(if $(APP_DB_ROLE),--app-role "$(APP_DB_ROLE)")

# Load on PostgreSQL, then a PostgreSQL restart under load (a throwaway cluster of its own,
# loopback only): results in bench/results/soak.md. SOAK_SECONDS=10 for a short run.
soak: $(STAMP)
	$(PY) bench/soak.py

# Two gunicorn instances (production settings) on one PostgreSQL and one Redis, both on
# 127.0.0.1:5432 and :6379: a session started on one works on the other, and after every
# publish or unpublish through either one's admin no page from the other is stale
# (bench/two_servers.py; a scratch database and Redis database, under a minute).
two-servers: $(STAMP)
	$(PY) bench/two_servers.py
