"""`make two-servers`: two app servers, one PostgreSQL, one Redis; no stale page, one session.

What production looks like beyond one machine, on loopback, in well under a minute:

1. A scratch database on the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth),
   migrated and loaded with the demo by the owner; the site's least-privilege role set up
   on it with `create_app_role`, as production runs. A Redis database number of its own at
   127.0.0.1:6379: claimed only when empty, flushed at the end, nothing else touched.
2. Two gunicorn instances (production settings, DEBUG off, 2 sync workers each) on two free
   ports, with one SECRET_KEY, one DATABASE_URL and one REDIS_URL: A and B.
3. Session: the editor logs in through A's admin login form (with its CSRF token); the
   same cookies open an admin page on B (200, not a redirect to the login). Later writes go
   through B with that session as well, and at the end a logout through B ends it on A.
4. Read after write. Every request names the site as 127.0.0.1 whichever port it goes to,
   as a load balancer passes on the public host name, so the servers share cached pages.
   The article's page, home, its category, its reviewer, search, the RSS feed and the
   sitemap are fetched several times, each from A and then from B (with the page cache,
   B's first answer is a hit on what A stored: its X-Page-Cache header is reported).
   Then, in cycles, the editor unpublishes the article through one server's admin (the
   confirmation page, a reason, "Yes, unpublish it") and publishes its approved revision
   again (the review page's "Publish now"); as soon as each response returns, the other
   server is asked for the article and home, then the rest. Meanwhile reader threads
   hammer both servers without cookies (sending If-None-Match when they hold an ETag, as a
   CDN would). A reading is stale when it shows a state older than the
   last step whose response had returned before the reading started (a reading that
   overlaps a step may show either side of it); a 304 stands for the state of the body
   its ETag came with.

Exit status 1 on any stale reading, any 5xx, a step the admin refused, or a session that
does not carry over; 2 when PostgreSQL or Redis cannot be reached (it says which). Knobs:
TWO_SERVERS_CYCLES (4: an unpublish and a publish each; the writer alternates A, B, A, ...),
TWO_SERVERS_READERS (4 threads), TWO_SERVERS_DWELL (0.4 s after each step),
TWO_SERVERS_REDIS_DBS (which Redis database numbers it may claim: 15..10).
"""

from __future__ import annotations

import http.client
import io
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import redis

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
DB_PREFIX = "clinic_two_servers_"
APP_ROLE = "clinic_app"
REDIS_CLAIM_KEY = "clinic-two-servers:claimed-by"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo's published password (load_demo)
SLUG = "couples-therapy-and-sex-therapy-for-intimacy-issues"
ARTICLE = f"/articles/{SLUG}/"
HOME = "/"
# The name both servers are reached by (ALLOWED_HOSTS), whatever their ports: pages are
# cached per host, and behind a load balancer every server sees the public one.
SITE_HOST = "127.0.0.1"
# Every public page that shows the demo article, by its link (the article's own page by
# its status). Article and home first: they are read first after each step.
PAGES = [
    ARTICLE,
    HOME,
    "/categories/relationships-and-intimacy/",
    "/reviewers/mark-hrymoc/",
    "/search/?q=intimacy",
    "/feed/",
    "/sitemap.xml",
]
CYCLES = int(os.environ.get("TWO_SERVERS_CYCLES", "4"))
READERS = int(os.environ.get("TWO_SERVERS_READERS", "4"))
DWELL = float(os.environ.get("TWO_SERVERS_DWELL", "0.4"))
REDIS_DBS = [
    int(n) for n in os.environ.get("TWO_SERVERS_REDIS_DBS", "15,14,13,12,11,10").split(",")
]
TIMEOUT = 15  # seconds, any one request


class Failed(Exception):
    """A check failed: the message says what was seen."""


class Unavailable(Exception):
    """PostgreSQL or Redis cannot be reached, or the set-up failed."""


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str
    started: float
    ended: float

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""


def fetch(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """One request on a new connection (gunicorn's sync workers close it after each), to
    the site's one name whichever server answers, as through a load balancer."""
    body = urlencode(form).encode() if form is not None else None
    sent = {"Host": SITE_HOST, **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=sent)
        raw = conn.getresponse()
        text = raw.read().decode("utf-8", "replace")
        return Response(raw.status, raw.headers, text, started, time.monotonic())
    finally:
        conn.close()


class Browser:
    """The editor's browser: one cookie jar, used on whichever server it talks to (the two
    are one site behind a load balancer, so cookies do not depend on the server)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, form: dict | None = None) -> Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method == "POST":
            headers["Origin"] = f"http://{SITE_HOST}"
            headers["Referer"] = f"http://{SITE_HOST}{path}"
        response = fetch(port, method, path, headers=headers, form=form)
        for line in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.status >= 500:
            raise Failed(f"{method} {path} on :{port} answered {response.status}")
        return response

    def get(self, port: int, path: str, expect: int = 200) -> Response:
        response = self.request(port, "GET", path)
        if response.status != expect:
            raise Failed(
                f"GET {path} on :{port} answered {response.status}"
                + (f" (to {response.header('Location')})" if response.header("Location") else "")
                + f", expected {expect}"
            )
        return response

    def post_form(self, port: int, path: str, page: Response, fields: dict) -> Response:
        """Post a form as the page that holds it would: with its CSRF token."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if token is None:
            raise Failed(f"no CSRF token in the page before POST {path}")
        return self.request(
            port, "POST", path, form={"csrfmiddlewaretoken": token.group(1), **fields}
        )


def messages_of(page: Response) -> list[tuple[str, str]]:
    """The admin's messages on a page: (level, text)."""
    return [
        (level, re.sub(r"<[^>]+>", "", text).strip())
        for level, text in re.findall(
            r'<li class="(success|error|warning|info)">(.*?)</li>', page.body, re.S
        )
    ]


def shows_article(path: str, response: Response) -> bool | None:
    """Whether a public page shows the article; None when the answer is not a page at all."""
    if path == ARTICLE:
        return {200: True, 404: False}.get(response.status)
    if response.status != 200:
        return None
    return ARTICLE in response.body


# --- What was done, and what was read -----------------------------------------------------


@dataclass
class Step:
    server: str
    action: str  # "unpublish" or "publish"
    live_after: bool
    started: float
    returned: float


@dataclass
class Reading:
    server: str
    path: str
    started: float
    ended: float
    status: int | str
    live: bool | None
    conditional: bool = False
    immediate: bool = False  # read by the writer's thread right after a step returned
    cache: str = ""  # the page cache's X-Page-Cache header (hit, miss, ...), if any


@dataclass
class Record:
    steps: list[Step] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reading: Reading) -> None:
        with self.lock:
            self.readings.append(reading)


def allowed_states(reading: Reading, steps: list[Step]) -> set[bool]:
    """The states a correct site may show to a reading: the state after the last step that
    had returned before the reading started, and that of any step it overlapped."""
    settled = [s for s in steps if s.returned <= reading.started]
    allowed = {settled[-1].live_after if settled else True}
    for step in steps:
        if step.started <= reading.ended and step.returned > reading.started:
            allowed.add(step.live_after)
    return allowed


def stale_readings(record: Record) -> list[tuple[Reading, set[bool]]]:
    stale = []
    for reading in record.readings:
        if reading.live is None:
            continue
        allowed = allowed_states(reading, record.steps)
        if reading.live not in allowed:
            stale.append((reading, allowed))
    return stale


def read_public(
    port: int,
    server: str,
    path: str,
    etags: dict,
    record: Record,
    *,
    conditional: bool = False,
    immediate: bool = False,
) -> Reading:
    """One anonymous reading; conditional (If-None-Match) when asked and an ETag is known."""
    headers = {}
    known: tuple[str, bool] | None = etags.get((server, path)) if conditional else None
    conditional = known is not None
    if known is not None:
        headers["If-None-Match"] = known[0]
    started = time.monotonic()
    try:
        response = fetch(port, "GET", path, headers=headers)
    except (OSError, http.client.HTTPException) as error:
        reading = Reading(server, path, started, time.monotonic(), type(error).__name__, None)
        record.add(reading)
        return reading
    live: bool | None
    if response.status == 304 and known is not None:
        live = known[1]  # the state of the body that ETag came with
    else:
        live = shows_article(path, response)
        if response.header("ETag") and live is not None:
            etags[(server, path)] = (response.header("ETag"), live)
    reading = Reading(
        server,
        path,
        response.started,
        response.ended,
        response.status,
        live,
        conditional,
        immediate,
        response.header("X-Page-Cache"),
    )
    record.add(reading)
    return reading


def reader(index: int, ports: dict[str, int], record: Record, stop: threading.Event) -> None:
    etags: dict = {}
    servers = sorted(ports)
    n = index
    while not stop.is_set():
        server = servers[n % 2]
        path = PAGES[(n // 2 + index) % len(PAGES)]
        read_public(ports[server], server, path, etags, record, conditional=n % 4 >= 2)
        n += 1


# --- The editor's steps through the admin ------------------------------------------------


class Editor:
    def __init__(self, ports: dict[str, int], record: Record) -> None:
        self.browser = Browser()
        self.ports = ports
        self.record = record
        self.article_pk = 0
        self.revision_pk = 0

    def log_in(self, server: str) -> None:
        port = self.ports[server]
        page = self.browser.get(port, "/admin/login/?next=/admin/")
        done = self.browser.post_form(
            port,
            "/admin/login/?next=/admin/",
            page,
            {"username": "editor", "password": DEMO_PASSWORD, "next": "/admin/"},
        )
        if done.status != 302 or done.header("Location") != "/admin/":
            raise Failed(
                f"logging in on {server} answered {done.status}, not a redirect to /admin/"
            )
        if "sessionid" not in self.browser.cookies:
            raise Failed(f"logging in on {server} set no session cookie")

    def signed_in_on(self, server: str) -> bool:
        response = self.browser.request(self.ports[server], "GET", "/admin/articles/article/")
        if response.status == 302 and "/admin/login/" in response.header("Location"):
            return False
        if response.status != 200:
            raise Failed(f"the article list on {server} answered {response.status}")
        return 'id="logout-form"' in response.body or "/admin/logout/" in response.body

    def find_article(self, server: str) -> None:
        port = self.ports[server]
        listing = self.browser.get(port, f"/admin/articles/article/?q={SLUG}")
        found = re.search(r'href="/admin/articles/article/(\d+)/change/', listing.body)
        if found is None:
            raise Failed("the demo article is not in the admin's article list")
        self.article_pk = int(found.group(1))
        change = self.browser.get(port, f"/admin/articles/article/{self.article_pk}/change/")
        live = re.search(
            r'href="/admin/articles/revision/(\d+)/change/">[^<]*</a> — live', change.body
        )
        if live is None:
            raise Failed("the demo article's change page names no live revision")
        self.revision_pk = int(live.group(1))

    def _step(
        self, server: str, other: str, action: str, url: str, page: Response, fields: dict
    ) -> Step:
        """Post the step's form; as soon as the response is back, read the other server;
        then follow the redirect and see the admin's message. A step the admin refused is
        taken off the record (nothing changed) and fails the run."""
        live_after = action == "publish"
        started = time.monotonic()
        response = self.browser.post_form(self.ports[server], url, page, fields)
        step = Step(server, action, live_after, started, time.monotonic())
        self.record.steps.append(step)
        self.read_other(other)
        said: list[tuple[str, str]] = []
        if response.status == 302:
            said = messages_of(self.browser.get(self.ports[server], response.header("Location")))
        expected = "Unpublished" if action == "unpublish" else "Revision"
        if not any(level == "success" and text.startswith(expected) for level, text in said):
            self.record.steps.remove(step)
            raise Failed(
                f"{action} through {server} answered {response.status} and did not succeed; "
                f"the admin said {said or 'nothing'}"
            )
        return step

    def unpublish(self, server: str, reason: str, other: str) -> Step:
        """As an editor: the article's page, its "Unpublish" button, the confirmation page
        with the reason, "Yes, unpublish it"."""
        port = self.ports[server]
        change = self.browser.get(port, f"/admin/articles/article/{self.article_pk}/change/")
        url = f"/admin/articles/article/{self.article_pk}/unpublish/"
        if url not in change.body:
            raise Failed(f"no 'Unpublish' button on the article's page on {server}")
        confirm = self.browser.get(port, url)
        if "Yes, unpublish it" not in confirm.body:
            raise Failed(f"the unpublish page on {server} asks for no confirmation")
        return self._step(server, other, "unpublish", url, confirm, {"reason": reason})

    def publish(self, server: str, other: str) -> Step:
        """As an editor: the approved revision's review page, "Publish now" (a revision
        taken down keeps its approval and may go live again while that is current)."""
        port = self.ports[server]
        review = self.browser.get(port, f"/admin/articles/revision/{self.revision_pk}/change/")
        url = f"/admin/articles/revision/{self.revision_pk}/publish/"
        if f'action="{url}"' not in review.body:
            refusal = re.search(r'class="publish-refusal">(.*?)</p>', review.body, re.S)
            raise Failed(
                f"no 'Publish now' on the revision's review page on {server}"
                + (f": {refusal.group(1)}" if refusal else "")
            )
        return self._step(server, other, "publish", url, review, {})

    def read_other(self, server: str) -> None:
        """Right after the step's response: the other server, article and home first."""
        etags: dict = {}
        for path in PAGES:
            read_public(self.ports[server], server, path, etags, self.record, immediate=True)

    def log_out(self, server: str) -> None:
        page = self.browser.get(self.ports[server], "/admin/")
        done = self.browser.post_form(self.ports[server], "/admin/logout/", page, {})
        if done.status not in (200, 302):
            raise Failed(f"logging out on {server} answered {done.status}")


# --- PostgreSQL, Redis, gunicorn ----------------------------------------------------------


def run(*command: str, env: dict | None = None) -> str:
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=180
        )
    except FileNotFoundError as error:
        raise Unavailable(f"{command[0]} is not installed ({error})") from None
    if result.returncode != 0:
        raise Unavailable(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def psql(sql: str) -> str:
    return run("psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-Atc", sql)


def check_postgresql() -> None:
    if shutil.which("pg_isready") is None or shutil.which("psql") is None:
        raise Unavailable("the PostgreSQL client programs (pg_isready, psql) are not installed")
    ready = subprocess.run(
        ["pg_isready", "-q", "-h", PG_HOST, "-p", str(PG_PORT)], check=False, timeout=30
    )
    if ready.returncode != 0:
        raise Unavailable(f"PostgreSQL is not accepting connections on {PG_HOST}:{PG_PORT}")


def drop_leftovers() -> None:
    """Scratch databases of earlier runs that died before their clean-up."""
    query = f"SELECT datname FROM pg_database WHERE datname LIKE '{DB_PREFIX}%'"  # noqa: S608
    for name in psql(query).split():
        pid = name.removeprefix(DB_PREFIX)
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def claim_redis() -> tuple[int, redis.Redis]:
    """A Redis database number nobody uses (empty), claimed with SET NX so that two runs at
    once never share one."""
    token = f"{socket.gethostname()}:{os.getpid()}"
    deadline = time.monotonic() + 5  # a Redis started just now may take a moment
    while True:
        try:
            redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5).ping()
            break
        except redis.RedisError as error:
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} ({error})"
                ) from None
            time.sleep(0.2)
    try:
        for db in REDIS_DBS:
            client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_timeout=5)
            if client.dbsize() == 0 and client.set(REDIS_CLAIM_KEY, token, nx=True, ex=900):
                return db, client
    except redis.RedisError as error:
        raise Unavailable(
            f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} ({error})"
        ) from None
    raise Unavailable(
        f"every Redis database it may use ({', '.join(map(str, REDIS_DBS))}) holds keys; "
        "set TWO_SERVERS_REDIS_DBS to free ones"
    )


def site_env(database_url: str, redis_url: str, secret_key: str) -> dict[str, str]:
    """The production settings, from the environment as production gets them."""
    inherited = (
        "DATABASE_",
        "DJANGO_SETTINGS",
        "REDIS_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "SECURE_",
        "SESSION_",
        "CSRF_",
        "AWS_",
        "EMAIL_",
        "LOGIN_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    return env | {
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no redirect to https, no HSTS, cookies over http.
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        # Label answers hit, miss or bypass, for the report (off in production).
        "PAGE_CACHE_HEADER": "1",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "clinic_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
                "--no-control-socket",  # another gunicorn may be running
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if fetch(port, "GET", HOME).status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise Unavailable(f"gunicorn on :{port} did not answer 200:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


# --- The run --------------------------------------------------------------------------------


def exercise(ports: dict[str, int], record: Record) -> list[str]:
    """Everything the servers are asked; returns what was seen about the session."""
    notes = []
    editor = Editor(ports, record)
    editor.log_in("A")
    if not editor.signed_in_on("B"):
        raise Failed("the session started on A does not work on B: B sends it to the login page")
    notes.append("session: the cookies of A's login open the admin on B (200)")
    editor.find_article("A")

    # Warm whatever caches there are, on both servers, and see the article everywhere. Each
    # page is asked of A first, then of B: with one shared cache B finds what A stored.
    etags: dict = {}
    shared: Counter[str] = Counter()
    for warming in range(3):
        for path in PAGES:
            for server in ("A", "B"):
                reading = read_public(ports[server], server, path, etags, record)
                if reading.live is not True:
                    raise Failed(
                        f"before any step, {path} on {server} answered {reading.status} "
                        f"and {'does not show' if reading.live is False else 'is not'} the article"
                    )
                if warming == 0 and server == "B" and reading.cache:
                    shared[reading.cache] += 1
    if shared:
        notes.append(
            f"page cache: {len(PAGES)} pages asked of A, then of B: B answered "
            + ", ".join(f"{n} {k}" for k, n in sorted(shared.items()))
        )

    stop = threading.Event()
    threads = [
        threading.Thread(target=reader, args=(i, ports, record, stop), daemon=True)
        for i in range(READERS)
    ]
    for thread in threads:
        thread.start()
    try:
        for cycle in range(CYCLES):
            writer, other = ("A", "B") if cycle % 2 == 0 else ("B", "A")
            editor.unpublish(writer, f"Two-server check, cycle {cycle + 1}.", other)
            time.sleep(DWELL)
            editor.publish(writer, other)
            time.sleep(DWELL)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 5)

    editor.log_out("B")
    if editor.signed_in_on("A"):
        raise Failed("after logging out on B, the session still works on A")
    notes.append("session: B accepts its CSRF posts too; logging out on B ends it on A")
    return notes


def summarize(record: Record, notes: list[str]) -> list[str]:
    """Print what was done and read; return the problems (stale readings, errors)."""
    problems: list[str] = []
    errors = [r for r in record.readings if r.live is None]
    stale = sorted(stale_readings(record), key=lambda found: found[0].started)
    lags: dict[tuple[str, str], list[float]] = {}
    for reading, _allowed in stale:
        step = [s for s in record.steps if s.returned <= reading.started][-1]
        lag = (reading.started - step.returned) * 1000
        lags.setdefault((reading.server, reading.path), []).append(lag)
        if len(problems) < 15:
            problems.append(
                f"STALE: {reading.path} on {reading.server}, asked {lag:.0f} ms after "
                f"{step.action} through {step.server} had returned, answered {reading.status}"
                f"{' to If-None-Match' if reading.status == 304 else ''} with the article "
                f"{'still live' if reading.live else 'still gone'}"
                f"{' (the read right after the step)' if reading.immediate else ''}"
            )
    for (server, path), found in sorted(lags.items()):
        problems.append(
            f"STALE on {server} {path}: {len(found)} readings, up to {max(found):.0f} ms "
            "after the step had returned"
        )
    for reading in errors[:10]:
        problems.append(f"ERROR: {reading.path} on {reading.server} answered {reading.status}")

    readings = record.readings
    by_server = Counter(r.server for r in readings)
    statuses = Counter(str(r.status) for r in readings)
    immediate = sum(1 for r in readings if r.immediate)
    conditional = sum(1 for r in readings if r.conditional)
    latency = sorted((r.ended - r.started) * 1000 for r in readings) or [0.0]
    for note in notes:
        print(f"  {note}")
    if record.steps:
        actions = Counter(s.action for s in record.steps)
        step_ms = statistics.median((s.returned - s.started) * 1000 for s in record.steps)
        print(
            f"  steps through the admin: {actions['unpublish']} unpublish, "
            f"{actions['publish']} publish, writer alternating A, B; median {step_ms:.0f} ms"
        )
    print(
        f"  public readings: {len(readings)} (A {by_server['A']}, B {by_server['B']}; "
        f"{immediate} on the other server right after a step returned, {conditional} "
        f"conditional); statuses {dict(sorted(statuses.items()))}; "
        f"p50 {latency[len(latency) // 2]:.0f} ms, p99 {latency[int(len(latency) * 0.99)]:.0f} ms"
    )
    cache = Counter(r.cache for r in readings if r.cache)
    print(
        "  page cache (X-Page-Cache): "
        + (", ".join(f"{k} {n}" for k, n in sorted(cache.items())) if cache else "not seen")
    )
    print(f"  stale readings: {len(stale)}; errors (5xx or no answer): {len(errors)}")
    return problems


def main() -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens under make
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="two-servers-"))
    database = f"{DB_PREFIX}{os.getpid()}"
    servers: list[subprocess.Popen] = []
    redis_client = None
    created = False
    record = Record()
    try:
        check_postgresql()
        redis_db, redis_client = claim_redis()
        drop_leftovers()
        print(
            f"=== scratch database {database} on {PG_HOST}:{PG_PORT}, "
            f"Redis database {redis_db} on {REDIS_HOST}:{REDIS_PORT}"
        )
        psql(f'CREATE DATABASE "{database}"')
        created = True
        secret = "two-servers-" + secrets.token_urlsafe(40)
        redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}"
        owner = site_env(
            f"postgres://postgres@{PG_HOST}:{PG_PORT}/{database}", redis_url, secret
        ) | {"DEMO_CONTENT_ALLOWED": "1"}
        python = str(VENV_BIN / "python")
        # collectstatic needs no database: beside the migrations, not after them.
        static = subprocess.Popen(
            [python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=owner,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        run(python, "manage.py", "migrate", "--noinput", "-v0", env=owner)
        run(python, "manage.py", "load_demo", env=owner)
        run(python, "manage.py", "create_app_role", APP_ROLE, env=owner)
        if static.wait(timeout=180) != 0:
            raise Unavailable(
                f"collectstatic failed:\n{static.stderr.read() if static.stderr else ''}"
            )
        site = site_env(f"postgres://{APP_ROLE}@{PG_HOST}:{PG_PORT}/{database}", redis_url, secret)
        ports = {"A": free_port(), "B": free_port()}
        print(f"=== gunicorn A on :{ports['A']}, B on :{ports['B']}, 2 workers each, as {APP_ROLE}")
        logs = {name: work / f"gunicorn-{name}.log" for name in ports}
        for name, port in ports.items():
            servers.append(start_gunicorn(port, site, logs[name]))
        for (name, port), server in zip(ports.items(), servers, strict=True):
            wait_until_up(port, server, logs[name])
        ready = time.monotonic()
        print(
            f"=== ready after {ready - started:.0f} s; {CYCLES} cycles of unpublish and "
            f"publish through the admin, {READERS} reader threads on both servers"
        )
        try:
            notes = exercise(ports, record)
            failure = None
        except Failed as error:
            notes, failure = [], error
        print(f"=== checked in {time.monotonic() - ready:.0f} s")
        problems = summarize(record, notes)
        if failure is not None:
            problems.append(f"FAILED: {failure}")
        tracebacks = {name: log.read_text().count("Traceback") for name, log in logs.items()}
        if any(tracebacks.values()):
            problems.append(f"tracebacks in the gunicorn logs: {tracebacks}")
        if problems:
            print("\n".join(problems))
            for name, log in logs.items():
                if tracebacks[name]:
                    print(f"--- gunicorn {name} log (end)\n{log.read_text()[-3000:]}")
            print("TWO SERVERS FAILED", file=sys.stderr)
            return 1
        print("TWO SERVERS PASSED: no stale page, no 5xx, one session across both servers")
        return 0
    except Unavailable as missing:
        print(f"two-servers cannot run: {missing}", file=sys.stderr)
        return 2
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if created:
            subprocess.run(
                [
                    "psql",
                    "-h",
                    PG_HOST,
                    "-p",
                    str(PG_PORT),
                    "-U",
                    "postgres",
                    "-qAtc",
                    f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                ],
                check=False,
                capture_output=True,
                timeout=60,
            )
        if redis_client is not None:
            try:
                redis_client.flushdb()
            except redis.RedisError as error:
                print(f"could not flush the Redis database: {error}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        print(f"=== {time.monotonic() - started:.0f} s in all, cleaned up")


if __name__ == "__main__":
    sys.exit(main())
