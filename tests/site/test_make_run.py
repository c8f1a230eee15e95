"""`make run`: the scheduler runs beside gunicorn and stops with it, and SITE_URL is the
address served unless set. The Makefile's own recipe runs, with stand-ins for the
virtualenv's python and gunicorn that record what they were given."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

FAKE_PYTHON = """#!/bin/sh
echo "python $* SITE_URL=$SITE_URL" >> "$RUN_LOG"
case "$*" in *run_scheduler*) echo $$ > "$RUN_DIR/scheduler.pid"; exec sleep 60 ;; esac
"""

# Waits for the scheduler to start; then ends at once, or (SERVE=1) serves until signalled.
FAKE_GUNICORN = """#!/bin/sh
echo "gunicorn $* SITE_URL=$SITE_URL" >> "$RUN_LOG"
i=0
while [ ! -s "$RUN_DIR/scheduler.pid" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo started > "$RUN_DIR/gunicorn.started"
if [ "$SERVE" = 1 ]; then exec sleep 60; fi
"""


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name, text in (("python", FAKE_PYTHON), ("gunicorn", FAKE_GUNICORN)):
        script = venv / "bin" / name
        script.write_text(text)
        script.chmod(0o755)
    (venv / ".installed").touch()  # newer than the requirements: nothing to install
    return venv


def start(venv: Path, *, serve: bool = False, **env: str) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "MAKEFLAGS", "MFLAGS")}
    return subprocess.Popen(
        ["make", "--no-print-directory", "-s", "run", f"VENV={venv}", "PORT=8830"],
        cwd=REPO,
        env={
            **base,
            "RUN_LOG": str(venv / "run.log"),
            "RUN_DIR": str(venv),
            "SERVE": "1" if serve else "0",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def log_lines(venv: Path) -> list[str]:
    return (venv / "run.log").read_text().splitlines()


def test_site_url_is_the_address_served_and_the_scheduler_runs_beside(fake_venv):
    run = start(fake_venv)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 0, output

    lines = log_lines(fake_venv)
    commands = [line.split(" SITE_URL=")[0] for line in lines]
    # The existing steps in order, then the scheduler and the server side by side.
    assert commands[:3] == [
        "python manage.py migrate --noinput",
        "python manage.py collectstatic --noinput --verbosity 0",
        "python manage.py load_demo",
    ]
    assert sorted(commands[3:]) == [
        "gunicorn clinic_site.wsgi:application --bind 127.0.0.1:8830 --workers 2 "
        "--access-logfile -",
        "python manage.py run_scheduler",
    ]
    # Links in e-mails, feeds and the sitemap: the address served.
    assert {line.split(" SITE_URL=")[1] for line in lines} == {"http://127.0.0.1:8830"}
    # The server ended, so the scheduler was stopped with it.
    scheduler = int((fake_venv / "scheduler.pid").read_text())
    assert not alive(scheduler)


def test_a_site_url_that_is_set_is_kept(fake_venv):
    run = start(fake_venv, SITE_URL="https://articles.clinic.example")
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 0, output
    assert {line.split(" SITE_URL=")[1] for line in log_lines(fake_venv)} == {
        "https://articles.clinic.example"
    }


def test_ctrl_c_stops_the_server_and_the_scheduler_together(fake_venv):
    run = start(fake_venv, serve=True)
    deadline = time.monotonic() + 60
    while not (fake_venv / "gunicorn.started").exists():
        assert run.poll() is None, run.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    scheduler = int((fake_venv / "scheduler.pid").read_text())
    assert alive(scheduler)

    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    run.communicate(timeout=30)

    stop_by = time.monotonic() + 10
    while alive(scheduler) and time.monotonic() < stop_by:
        time.sleep(0.05)
    assert not alive(scheduler)
