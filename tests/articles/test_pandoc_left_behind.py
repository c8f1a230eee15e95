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
import threading
import time
from pathlib import Path

import pytest

from articles import pandoc

ROOT = Path(__file__).resolve().parents[2]
# A text pandoc's Markdown reader backtracks on for more than a minute (unclosed quotes,
# past every pre-check; see test_hostile_markdown.py).
BACKTRACKING = "'a " * ((pandoc.MAX_BODY_CHARS - 1_000) // 3)
# The worker's own clock is set far off, so the test, not the worker's timeout, decides
# when it dies: on a slow or busy machine the worker could otherwise stop pandoc itself
# (3 s) before the test has found it.
WORKER = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.test_settings")
django.setup()
from articles import pandoc
pandoc.TIMEOUT_SECONDS = 600.0
pandoc.run_pandoc(sys.stdin.read(), references=[], style="apa", citations=False)
"""
# Soft limit CPU_SECONDS (SIGXCPU), hard limit a second later (SIGKILL if that was ignored).
CPU_LIMIT = re.compile(rf"Max cpu time\s+{pandoc.CPU_SECONDS}\s+{pandoc.CPU_SECONDS + 1}\s+seconds")

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


def renders(pid: int) -> bool:
    """Whether this process is pandoc rendering (not pypandoc's `pandoc --version` probe,
    which runs first, nor the worker's fork before pandoc is executed)."""
    try:
        return "--sandbox" in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return False


def limits_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/limits").read_text()
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (user and system), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
        # The render's pandoc, once the worker has set its CPU limit (just after starting it).
        deadline = time.monotonic() + 60
        limits = ""
        while time.monotonic() < deadline and worker.poll() is None:
            pids = [pid for pid in children_of(worker.pid) if renders(pid)]
            limits = limits_of(pids[0]) if pids else ""
            if CPU_LIMIT.search(limits):
                break
            time.sleep(0.02)
        assert pids, "the worker never started pandoc"
        assert CPU_LIMIT.search(limits), limits
        worker.kill()  # killed mid-render, long before its own timeout
        worker.wait()
        cpu = pandoc.CPU_SECONDS
        assert alive(pids[0]), "pandoc ended with its worker: nothing was left to test"
        # Nobody waits for it now. The kernel counts pandoc's CPU time, which on a busy
        # machine runs slower than the clock: wait by that, with the clock as a backstop.
        deadline = time.monotonic() + 30 * cpu
        while alive(pids[0]) and cpu_seconds(pids[0]) < cpu + 5:
            assert time.monotonic() < deadline, f"pandoc got under {cpu} s of CPU in {30 * cpu} s"
            time.sleep(0.2)
        used = cpu_seconds(pids[0])
        assert not alive(pids[0]), f"pandoc still ran after {used:.1f} s of CPU time"
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


def test_pandoc_killed_by_the_system_is_a_message_not_a_misleading_reason(monkeypatch):
    # The OOM killer sends SIGKILL, as the hard CPU limit would: the message must not claim
    # either cause. The limits are set far off so only this test's kill stops pandoc.
    monkeypatch.setattr(pandoc, "TIMEOUT_SECONDS", 600.0)
    monkeypatch.setattr(pandoc, "CPU_SECONDS", 600)
    outcome: list[BaseException | None] = []

    def render() -> None:
        try:
            pandoc.run_pandoc(BACKTRACKING, references=[], style="apa", citations=False)
            outcome.append(None)
        except pandoc.PandocError as error:
            outcome.append(error)

    thread = threading.Thread(target=render)
    thread.start()
    deadline = time.monotonic() + 120
    pids: list[int] = []
    while not pids and thread.is_alive() and time.monotonic() < deadline:
        pids = [pid for pid in children_of(os.getpid()) if renders(pid)]
        time.sleep(0.02)
    assert pids, "pandoc never started"
    os.kill(pids[0], signal.SIGKILL)
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert outcome and isinstance(outcome[0], pandoc.PandocError), outcome
    message = str(outcome[0])
    assert message.startswith("Rendering was stopped by the server before it finished")
    assert "processor time" in message and "memory" in message  # both causes, neither claimed
