"""Private PostgreSQL, Redis and a production gunicorn for the load test and drills 3 and 4.

A drill that stops Redis or restarts PostgreSQL must never touch the machine's own services
(other work uses them), so it starts its own: `redis-server` on a free port, or a PostgreSQL
cluster made with `initdb` in a temporary folder and run as the `postgres` user. The web server
is gunicorn started exactly as the README's deploy section says, with the production settings.

Everything here is plain subprocess handling, no Django import, so a drill can set the
environment first and import Django afterwards.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

# The harness has the parts every drill shares (free ports, private Redis, the migrated template
# database); this module adds what only the load test and drills 3 and 4 need.
from drills.harness import PrivateRedis, free_port

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("SUANLI_PG_BIN", "/usr/lib/postgresql/15/bin"))
# The README's deploy command: `gunicorn portal.wsgi --workers 4 --bind 0.0.0.0:8000`.
GUNICORN_WORKERS = 4


def wait_for(
    predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1
) -> float:
    """Seconds until `predicate()` is true; SystemExit (the drill fails) after `timeout`."""
    start = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - start
        except Exception:  # noqa: S110 - "not yet" for any probe that cannot connect yet
            pass
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def http_status(url: str, headers: dict[str, str] | None = None, timeout: float = 5) -> int:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - local URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # refused, reset, timed out: not answering (yet)
        return 0


def stop_process(process: subprocess.Popen | None, timeout: float = 15) -> None:
    """Stop a process this module started (its own session), then wait for it."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary folder), run as `postgres`,
    which PostgreSQL requires when we are root. Trust authentication on 127.0.0.1 only."""

    def __init__(self, folder: Path):
        self.folder = folder / "pg"
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_postgres, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self.folder.mkdir(parents=True)
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip

    def start(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
            "-l", str(self.folder / "postgres.log"),
            "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def load_schema_from(self, source_url: str, database_url: str) -> None:
        """Copy the schema (and the migrations' rows) of a migrated database on another server:
        a dump loads in a second or two where `migrate` takes twenty."""
        dump = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", source_url.replace(
                "postgres://", "postgresql://", 1)],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1",
             database_url.replace("postgres://", "postgresql://", 1)],
            input=dump.stdout, check=True, capture_output=True,
        )  # fmt: skip

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")


def production_environment(
    *, folder: Path, database_url: str, redis: PrivateRedis, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a production deploy (README "Deploying"), on this machine's loopback.

    Behind the TLS proxy the README asks for, every request arrives with X-Forwarded-Proto:
    https; the clients of these scripts send that header themselves, so SECURE_SSL_REDIRECT,
    secure cookies and HSTS stay exactly as deployed. E-mail goes to files in `folder/mail`
    (EMAIL_URL=filemail://), which every process writes and the drills count."""
    mail = folder / "mail"
    mail.mkdir(exist_ok=True)
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SUANLI_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis.url(0),
        "CACHE_URL": redis.url(1),
        "EMAIL_URL": f"filemail://{mail}",
        "SUANLI_VAR_DIR": str(folder / "var"),
        "SUANLI_SITE_URL": "https://127.0.0.1",
        "SUANLI_STAFF_ALERT_EMAILS": "ops@drill.localhost",
    }
    environment.update(extra or {})
    return environment


def manage(environment: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, check=True)


# Production serves hashed, compressed static files from STATIC_ROOT; collecting them takes half a
# minute on a busy machine, so the load test and the drills share one collection in var/ and
# collect again only when a source file is newer than its manifest.
COLLECTED_STATIC = ROOT / "var" / "bench-static"


def collected_static(environment: dict[str, str]) -> str:
    """STATIC_ROOT with the production manifest, collected now if missing or out of date."""
    manifest = COLLECTED_STATIC / "staticfiles.json"
    sources = [ROOT / "static", ROOT / "requirements.txt"]
    newest = max(
        (path.stat().st_mtime for source in sources for path in [source, *source.rglob("*")]),
        default=0.0,
    )
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        manage({**environment, "DJANGO_STATIC_ROOT": str(COLLECTED_STATIC)},
               "collectstatic", "--noinput", "-v0")  # fmt: skip
    return str(COLLECTED_STATIC)


def start_gunicorn(
    environment: dict[str, str], folder: Path, *, workers: int = GUNICORN_WORKERS, threads: int = 1
) -> tuple[subprocess.Popen, int]:
    """gunicorn as the README deploys it (sync workers), on a free loopback port. `threads` > 1
    runs gthread workers instead (for the load test's comparison of worker settings)."""
    port = free_port()
    log = (folder / "gunicorn.log").open("ab")
    threading = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", str(workers), *threading,
         "--bind", f"127.0.0.1:{port}", "--backlog", "2048"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    wait_for(
        lambda: http_status(f"http://127.0.0.1:{port}/healthz", PROXY_HEADERS) == 200,
        timeout=60,
        what="gunicorn",
    )
    return process, port


def gunicorn_worker_pids(master: subprocess.Popen) -> set[int]:
    """The worker processes of a gunicorn master (to prove they were not restarted)."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


def start_celery(environment: dict[str, str], folder: Path, *args: str) -> subprocess.Popen:
    log = (folder / f"celery-{args[0]}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", *args, "--loglevel=INFO"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# What the TLS proxy in front of gunicorn adds to every request (see production_environment).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
