"""A worker killed mid-render (a deploy, the OOM killer, gunicorn's own timeout) leaves its
pandoc with nobody waiting: on a text pandoc backtracks on, that pandoc would run for
minutes. The kernel stops it after CPU_SECONDS of its own CPU time, whoever is left."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from articles import pandoc

ROOT = Path(__file__).resolve().parents[2]
# A text pandoc's Markdown reader backtracks on for more than a minute (unclosed quotes,
# past every pre-check; see test_hostile_markdown.py).
BACKTRACKING = "'a " * ((pandoc.MAX_BODY_CHARS - 1_000) // 3)
WORKER = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.test_settings")
django.setup()
from articles.pandoc import run_pandoc
run_pandoc(sys.stdin.read(), references=[], style="apa", citations=False)
"""

pytestmark = pytest.mark.skipif(
    not hasattr(resource, "prlimit") or not Path("/proc/self/stat").exists(),
    reason="the CPU limit is set with Linux's prlimit",
)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_pandoc_left_behind_by_a_killed_worker_stops_by_itself():
    worker = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WORKER],
        stdin=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert worker.stdin is not None
    worker.stdin.write(BACKTRACKING.encode())
    worker.stdin.close()
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not pids and time.monotonic() < deadline and worker.poll() is None:
            pids = children_of(worker.pid)
            time.sleep(0.02)
        assert pids, "the worker never started pandoc"
        limits = Path(f"/proc/{pids[0]}/limits").read_text()
        worker.kill()  # killed mid-render, before its own timeout
        worker.wait()
        cpu = pandoc.CPU_SECONDS
        assert re.search(rf"Max cpu time\s+{cpu}\s+{cpu}\s+seconds", limits), limits
        assert alive(pids[0]), "pandoc ended with its worker: nothing was left to test"
        # Nobody waits for it now. CPU time runs slower than the clock on a busy machine.
        deadline = time.monotonic() + 6 * cpu
        while alive(pids[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(pids[0]), f"pandoc still ran {6 * cpu} s after its worker died"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        for pid in pids:  # this test leaves nothing behind either, whatever it found
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_limit_that_cannot_be_set_never_fails_a_render():
    ended = subprocess.Popen(["true"])  # noqa: S607 - coreutils
    ended.wait()  # reaped: its pid names no process now
    pandoc._limit_cpu(ended.pid)  # would raise ProcessLookupError unguarded
    assert pandoc.run_pandoc("Still *renders*.", references=[], style="apa").html.startswith(
        "<p>Still <em>renders</em>.</p>"
    )
