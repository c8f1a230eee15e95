"""Real servers for the outage tests: gunicorn in a subprocess, and a TCP relay in front of
PostgreSQL that can drop every connection and refuse new ones, as a restart does.

Loopback only; every server stops with its `with` block.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
# The suite runs twice in CI, on SQLite and on PostgreSQL (DATABASE_URL): a test that builds
# its own databases of one kind in subprocesses runs once, in the run of its kind.
POSTGRES_RUN = os.environ.get("DATABASE_URL", "").startswith("postgres")
GUNICORN = Path(sys.executable).parent / "gunicorn"


def manage(
    *args: str, database_url: str, check: bool = True, command: tuple[str, ...] | None = None
) -> subprocess.CompletedProcess:
    """`manage.py ARGS` (or another command run the same way, such as make) in a
    subprocess with the test settings and the given database, as an operator would."""
    result = subprocess.run(  # noqa: S603
        [*(command or (sys.executable, "manage.py")), *args],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic_site.test_settings",
            "DATABASE_URL": database_url,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"{' '.join(result.args)}:\n{result.stderr}"
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port bound but never listening: every connection to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel completes the handshake) and never says
    a word: a database host that hangs rather than refuses."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(64)
        yield held.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str


def fetch(base: str, path: str, *, method: str = "GET", body=None, headers=None) -> Answer:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
    finally:
        conn.close()


@contextmanager
def gunicorn(env: dict[str, str], *, log_path: Path) -> Iterator[str]:
    """The site under gunicorn (one sync worker) with DEBUG off, as production runs it.

    The test settings are the production settings minus HTTPS redirects, with static
    files served from the app folders (tests never run collectstatic).
    """
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic_site.test_settings",
        "DEBUG": "0",
        "CONN_MAX_AGE": "60",
        **env,
    }
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [str(GUNICORN), "clinic_site.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "1", "--log-level", "warning", "--graceful-timeout", "2"]
            + ["--no-control-socket"],  # several gunicorns may run at once
            cwd=BASE_DIR,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start within 30 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Relay:
    """Forwards 127.0.0.1:port to a target. `down()` closes the listener and every
    connection through it (what clients of a restarting PostgreSQL see); `up()` listens
    again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self.lock:
            doomed, self.sockets = self.sockets, set()
        for sock in doomed:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self.lock:
                self.sockets -= {source, sink}
            source.close()


@contextmanager
def relay(target: tuple[str, int]) -> Iterator[Relay]:
    running = Relay(target)
    running.up()
    try:
        yield running
    finally:
        running.down()
