#!/usr/bin/env bash
# Benchmark: requests per second and latency of the public article page under gunicorn,
# with production settings (DEBUG off) on a throwaway SQLite database with the demo.
# Needs wrk (apt-get install wrk). Traffic goes to 127.0.0.1 only, for 10 s per page.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }

port=${BENCH_PORT:-8799}
workdir=$(mktemp -d)
export DEBUG=0 SECRET_KEY=bench-only-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SECURE_HSTS_SECONDS=0
export DATABASE_URL="sqlite:///$workdir/bench.sqlite3"
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py load_demo >/dev/null
.venv/bin/gunicorn clinic_site.wsgi:application --bind "127.0.0.1:$port" --workers 2 \
    --log-level warning &
server=$!
trap 'kill $server; rm -rf "$workdir"' EXIT
sleep 2
for page in /articles/couples-therapy-and-sex-therapy-for-intimacy-issues/ / /search/?q=intimacy; do
    echo "=== $page"
    wrk --threads 2 --connections 8 --duration 10s "http://127.0.0.1:$port$page" | sed -n '3,8p'
done
