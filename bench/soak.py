"""`make soak`: the site under load on PostgreSQL, then through a PostgreSQL restart.

1. A throwaway PostgreSQL 15 cluster on a loopback port of its own (so restarting it
   disturbs no other database on the machine), the demo loaded into it by the owner, the
   site's least-privilege role set up with `create_app_role`.
2. gunicorn with the production settings (DEBUG off), 2 sync workers, connecting as that
   role.
3. Phase 1: wrk, 64 connections for SOAK_SECONDS (60) over the article, home and search
   pages (bench/soak.lua rotates them): no answer outside 2xx/3xx and no socket error
   expected.
4. Phase 2: the same load; a third of the way in, `pg_ctlcluster … restart`. Meanwhile
   bench/soak_workflow.py takes articles through the workflow and records which steps
   returned, and gunicorn logs every answer's time and status (bench/soak_gunicorn.py).
   Reported: answers by status (503 is fine, 500 is not), the restart's length, the time
   from the restart until the site answers 200 again (the first 200 after the last answer
   that was not 200), and whether every step reported done is in the database.

Results go to bench/results/soak.md (SOAK_REPORT to change). Exit status 1 when phase 1
saw any error, phase 2 any 5xx other than 503, recovery took longer than
SOAK_MAX_RECOVERY (30 s), or a step reported done is missing. Loopback only; every
process and the cluster are removed at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_VERSION = os.environ.get("SOAK_PG_VERSION") or sorted(os.listdir("/etc/postgresql"))[-1]
CLUSTER = "clinic_soak"
DATABASE = "clinic_soak"
APP_ROLE = "clinic_app"
PATHS = [
    "/articles/couples-therapy-and-sex-therapy-for-intimacy-issues/",
    "/",
    "/search/?q=intimacy",
]
SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "64"))
MAX_RECOVERY = float(os.environ.get("SOAK_MAX_RECOVERY", "30"))
REPORT = Path(os.environ.get("SOAK_REPORT") or ROOT / "bench" / "results" / "soak.md")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sh(*command: str, env: dict | None = None, quiet: bool = True) -> str:
    result = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    if not quiet:
        print(result.stdout, end="")
    return result.stdout


def drop_cluster() -> None:
    subprocess.run(  # noqa: S603
        ["pg_dropcluster", "--stop", PG_VERSION, CLUSTER], capture_output=True, check=False
    )


def create_cluster(port: int) -> None:
    drop_cluster()  # what a crashed earlier run left
    sh(
        "pg_createcluster",
        PG_VERSION,
        CLUSTER,
        "-p",
        str(port),
        "--",
        "--auth-local=trust",
        "--auth-host=trust",
    )
    sh("pg_ctlcluster", PG_VERSION, CLUSTER, "start")
    sh("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", DATABASE)


def site_env(database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_SETTINGS", "REDIS_URL"))
    }
    return env | {
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": "soak-" + secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no redirect to https, no HSTS.
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DEMO_CONTENT_ALLOWED": "1",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }


def get(port: int, path: str, timeout: float = 10) -> int | str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError as error:
        return type(error).__name__
    finally:
        conn.close()


def wrk(port: int, seconds: int) -> dict:
    out = sh(
        "wrk",
        "--threads",
        "2",
        "--connections",
        str(CONNECTIONS),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--script",
        str(ROOT / "bench" / "soak.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        *PATHS,
    )
    result: dict = {"status": {}, "raw": out}
    for line in out.splitlines():
        parts = line.split()
        if not parts or parts[0] != "soak":
            continue
        if parts[1] == "status":
            result["status"][int(parts[2])] = int(parts[3])
        elif parts[1] == "socket_errors":
            result["socket_errors"] = {
                k: int(v) for k, v in (item.split("=") for item in parts[2:])
            }
        else:
            result[parts[1]] = int(parts[2])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def answers(status_log: Path) -> list[tuple[float, int]]:
    """Every answered request as (completion time, status), in order (bench/soak_gunicorn.py)."""
    found = []
    for line in status_log.read_text().splitlines():
        stamp, _, status = line.partition(" ")
        with suppress(ValueError):
            found.append((float(stamp), int(status)))
    return sorted(found)


def recovery_after(status_log: Path, restart_started: float) -> tuple[float | None, list]:
    """Seconds from the restart's start until the first 200 after the last answer that was
    not 200, and the times (from the restart's start) of the answers that were not 200."""
    after = [(t - restart_started, s) for t, s in answers(status_log) if t >= restart_started]
    failed = [t for t, s in after if s != 200]
    recovered = next((t for t, s in after if s == 200 and (not failed or t > failed[-1])), None)
    return recovered, failed


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    pg_port, web_port = free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    owner_url = f"postgres://postgres@127.0.0.1:{pg_port}/{DATABASE}"
    app_url = f"postgres://{APP_ROLE}@127.0.0.1:{pg_port}/{DATABASE}"
    server = workflow = None
    try:
        print(f"=== PostgreSQL {PG_VERSION} cluster {CLUSTER} on 127.0.0.1:{pg_port}")
        create_cluster(pg_port)
        owner = site_env(owner_url)
        python = str(VENV_BIN / "python")
        sh(python, "manage.py", "migrate", "--noinput", "-v0", env=owner)
        sh(python, "manage.py", "load_demo", env=owner)
        sh(python, "manage.py", "create_app_role", APP_ROLE, env=owner)
        sh(python, "manage.py", "collectstatic", "--noinput", "-v0", env=owner)
        site = site_env(app_url)
        print(f"=== gunicorn, 2 sync workers, on 127.0.0.1:{web_port} as {APP_ROLE}")
        server_log, status_log = work / "gunicorn.log", work / "answers.log"
        with server_log.open("w") as log:
            server = subprocess.Popen(  # noqa: S603
                [
                    str(VENV_BIN / "gunicorn"),
                    "clinic_site.wsgi:application",
                    "--config",
                    "bench/soak_gunicorn.py",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--workers",
                    "2",
                    "--log-level",
                    "warning",
                    "--no-control-socket",  # another gunicorn may be running
                ],
                cwd=ROOT,
                env=site | {"SOAK_STATUS_LOG": str(status_log)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while get(web_port, "/", timeout=2) != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not answer 200:\n" + server_log.read_text()[-3000:])
            time.sleep(0.2)
        for path in PATHS:
            if (status := get(web_port, path)) != 200:
                raise SystemExit(f"{path} answered {status} before the load")

        load_before = os.getloadavg()[0]
        print(f"=== phase 1: {SECONDS} s, {CONNECTIONS} connections")
        steady = wrk(web_port, SECONDS)
        print(
            f"    {steady['requests']} requests, {steady['rps']:.0f}/s, status {steady['status']}"
        )

        print(f"=== phase 2: {SECONDS} s with a PostgreSQL restart at {SECONDS // 3} s")
        workflow_log = work / "workflow.jsonl"
        workflow = subprocess.Popen(  # noqa: S603
            [
                python,
                "bench/soak_workflow.py",
                "run",
                "--seconds",
                str(SECONDS),
                "--out",
                str(workflow_log),
            ],
            cwd=ROOT,
            env=site,
            stdout=subprocess.DEVNULL,
            stderr=(work / "workflow.err").open("w"),
        )
        phase2: dict = {}
        load = threading.Thread(target=lambda: phase2.update(wrk(web_port, SECONDS)))
        load.start()
        time.sleep(SECONDS / 3)
        restart_started = time.time()
        sh("pg_ctlcluster", PG_VERSION, CLUSTER, "restart")
        restart_seconds = time.time() - restart_started
        load.join()
        workflow.wait(timeout=120)
        workflow = None
        # Not back by the end of the load: keep asking, up to the limit.
        while recovery_after(status_log, restart_started)[0] is None:
            if time.time() - restart_started > MAX_RECOVERY + 5:
                break
            get(web_port, "/", timeout=5)
            time.sleep(0.1)
        recovery, not_200 = recovery_after(status_log, restart_started)
        print(f"    back to 200 after {recovery} s; {len(not_200)} answers were not 200")

        verified = json.loads(
            sh(python, "bench/soak_workflow.py", "verify", "--log", str(workflow_log), env=owner)
        )
        log_text = server_log.read_text()
        tracebacks = log_text.count("Traceback")
        outage_lines = len(re.findall(r"Database unavailable, answered 503", log_text))

        problems = []
        if steady["non_2xx_3xx"] or any(steady["socket_errors"].values()):
            problems.append("phase 1 had errors")
        fives = {s: n for s, n in phase2["status"].items() if s >= 500 and s != 503}
        if fives:
            problems.append(f"phase 2 answered {fives}")
        if recovery is None or recovery > MAX_RECOVERY:
            problems.append(f"no 200 within {MAX_RECOVERY:.0f} s of the restart")
        if verified["missing"]:
            problems.append(f"{len(verified['missing'])} steps reported done are missing")
        if not verified["audit_ok"]:
            problems.append(f"audit chain: {verified['audit_problem']}")
        if tracebacks:
            problems.append(f"{tracebacks} tracebacks in the gunicorn log")

        write_report(
            steady=steady,
            phase2=phase2,
            restart_seconds=restart_seconds,
            recovery=recovery,
            not_200=not_200,
            verified=verified,
            tracebacks=tracebacks,
            outage_lines=outage_lines,
            problems=problems,
            load_before=load_before,
        )
        print(REPORT.read_text())
        if problems:
            print("SOAK FAILED: " + "; ".join(problems), file=sys.stderr)
            print(log_text[-4000:], file=sys.stderr)
            return 1
        return 0
    finally:
        for process in (workflow, server):
            if process is not None and process.poll() is None:
                process.terminate()
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
        drop_cluster()
        shutil.rmtree(work, ignore_errors=True)


def _ms(us: int) -> str:
    return f"{us / 1000:.0f} ms"


def write_report(
    *,
    steady,
    phase2,
    restart_seconds,
    recovery,
    not_200,
    verified,
    tracebacks,
    outage_lines,
    problems,
    load_before,
) -> None:
    def statuses(result: dict) -> str:
        return ", ".join(f"{s}: {n}" for s, n in sorted(result["status"].items()))

    def row(name: str, r: dict) -> str:
        errors = ", ".join(f"{k} {v}" for k, v in r["socket_errors"].items() if v) or "none"
        return (
            f"| {name} | {r['requests']} | {r['rps']:.0f} | {_ms(r['latency_p50_us'])} / "
            f"{_ms(r['latency_p99_us'])} / {_ms(r['latency_max_us'])} | {statuses(r)} | "
            f"{r['non_2xx_3xx']} | {errors} |"
        )

    cpu = os.cpu_count()
    lines = [
        "# Soak test: load, then a PostgreSQL restart under load",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} by `make soak` (bench/soak.py) on {cpu} "
        f"cores: gunicorn, production settings, 2 sync workers, connecting to PostgreSQL "
        f"{PG_VERSION} as the least-privilege role `{APP_ROLE}`; wrk on the same machine, "
        f"2 threads, {CONNECTIONS} connections, {SECONDS} s a phase, rotating over "
        + ", ".join(f"`{p}`" for p in PATHS)
        + f". Load average (1 min) when the load began: {load_before:.1f}"
        + (" (the machine otherwise idle)." if load_before < 1 else " (other work on the cores)."),
        "",
        "| phase | requests | req/s | latency p50 / p99 / max | answers | non-2xx/3xx "
        "| socket errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        row("1: steady", steady),
        row(f"2: PostgreSQL restart at {SECONDS // 3} s", phase2),
        "",
        "Phase 2:",
        "",
        f"- `pg_ctlcluster restart` took {restart_seconds:.1f} s (fast shutdown: every "
        "connection cut, then start).",
        f"- answered 503 (with Retry-After, the site's page): {phase2['status'].get(503, 0)}; "
        f"answered 500: {phase2['status'].get(500, 0)}; other 5xx: "
        f"{sum(n for s, n in phase2['status'].items() if s > 500 and s != 503)}.",
        "- the site answered 200 again "
        + (f"{recovery:.1f} s after the restart began" if recovery is not None else "NEVER")
        + " (the first 200 after the last answer that was not 200; gunicorn logged every "
        "answer's time and status, bench/soak_gunicorn.py)"
        + (
            f"; the {len(not_200)} answers that were not 200 came from "
            f"{not_200[0]:.2f} s to {not_200[-1]:.2f} s after the restart began."
            if not_200
            else "; no answer was anything but 200."
        ),
        f"- workflow steps (save, submit, approve, publish) during the phase: "
        f"{verified['attempted']} attempted, {verified['done']} reported done, "
        f"{verified['failed']} failed ({', '.join(verified['errors']) or 'none'}); "
        f"every step reported done is in the database: "
        f"{'yes' if not verified['missing'] else 'NO, missing ' + str(len(verified['missing']))}"
        f"; failed steps whose commit had gone through: {verified['failed_but_committed']}.",
        "- `verify_audit` after the phase: "
        + (
            f"intact, {verified['audit_events']} events"
            if verified["audit_ok"]
            else f"BROKEN: {verified['audit_problem']}"
        )
        + ".",
        f"- gunicorn log: {tracebacks} tracebacks; outage warnings (at most one a second per "
        f"worker): {outage_lines}.",
        "",
        "Result: " + ("**pass**" if not problems else "**FAIL**: " + "; ".join(problems)),
        "",
    ]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
