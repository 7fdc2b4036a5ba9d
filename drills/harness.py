"""Shared machinery of the fault drills and the benches that run the real processes.

A drill sets things up, breaks them, recovers, and checks. This module does the setting up and
the bookkeeping so each drill reads as its own story:

- a scratch PostgreSQL database on the machine's server (never the server itself: other work
  uses it), copied from a migrated template database (`suanli_drill_template_<hash of the
  migrations>`, built once) and dropped again;
- a private `redis-server` on a free port in a temporary folder (so a drill may stop it, and no
  other run's queue is ever purged), or a Redis DB number of the caller's choice;
- the environment every child process gets (database, broker, cache, a temporary var folder,
  e-mail written to files so they can be counted);
- Celery workers and beat, the reference center receiver, gunicorn, each a process group with
  its own log, stopped with SIGTERM or killed with SIGKILL on purpose;
- `wait_for`, and a reporter that prints figures and checks and ends in PASS or FAIL.

Nothing here imports Django at module level: a drill calls `Drill.django_setup()` once the
environment points at its scratch database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The machine's PostgreSQL server; only scratch databases named by the drill are created on it.
POSTGRES_SERVER_URL = os.environ.get(
    "SUANLI_DRILL_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_BINARY = shutil.which("redis-server") or "/usr/bin/redis-server"


# --- small tools --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(
    predicate: Callable[[], object], *, timeout: float, what: str, interval: float = 0.2
) -> float:
    """Poll until ``predicate()`` is true; return the seconds it took, or stop the run."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise DrillTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - start


class DrillTimeout(RuntimeError):
    """Something the drill waited for never happened: the drill fails, it does not hang."""


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# --- PostgreSQL scratch databases ---------------------------------------------------------------


def _psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def database_url(name: str, *, server_url: str = POSTGRES_SERVER_URL) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def database_create(
    name: str, *, server_url: str = POSTGRES_SERVER_URL, template: str | None = None
) -> str:
    """(Re)create database ``name`` on the server, empty or as a copy of ``template``; return
    its URL. Names are the caller's own."""
    import psycopg

    if not name.replace("_", "").isalnum() or name in {"postgres", "test", "template1"}:
        raise ValueError(f"refusing to recreate database {name!r}")
    copy = f" TEMPLATE {template}" if template else ""
    with psycopg.connect(_psycopg_url(server_url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}{copy}")
    return database_url(name, server_url=server_url)


def migrated_template(*, server_url: str = POSTGRES_SERVER_URL) -> str:
    """Name of a database on the server holding the current migrations, made once per set of
    migration files (about 13 s on a busy 2-core machine), so each drill's scratch database is
    a quick copy of it instead of a fresh `migrate`."""
    import hashlib

    import psycopg

    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    name = f"suanli_drill_template_{digest.hexdigest()[:12]}"
    with psycopg.connect(_psycopg_url(server_url), autocommit=True) as conn:
        # One drill builds it while another waits; the lock ends with this connection.
        conn.execute("SELECT pg_advisory_lock(hashtext('suanli_drill_template'))")
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'suanli_drill_template_%'"
            )
        ]
        if name in names:
            return name
        for stale in names:  # templates of older migrations
            conn.execute(f"DROP DATABASE IF EXISTS {stale} WITH (FORCE)")
        building = f"{name}_building"
        conn.execute(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {building}")
        env = {
            **os.environ,
            "DATABASE_URL": database_url(building, server_url=server_url),
            "DJANGO_SETTINGS_MODULE": "portal.settings.base",
            "SUANLI_VAR_DIR": tempfile.mkdtemp(prefix="suanli-drill-template-"),
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        shutil.rmtree(env["SUANLI_VAR_DIR"], ignore_errors=True)
        conn.execute(f"ALTER DATABASE {building} RENAME TO {name}")
    return name


def database_drop(name: str, *, server_url: str = POSTGRES_SERVER_URL) -> None:
    import psycopg

    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
    with psycopg.connect(_psycopg_url(server_url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- child processes ----------------------------------------------------------------------------


@dataclass
class Child:
    """One child process in its own process group, with its output in ``log``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> Child:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_log(self, text: str, *, timeout: float = 60) -> float:
        """Wait until ``text`` appears in the log; fail at once if the process died first."""

        def seen() -> bool:
            if text in self.log_text():
                return True
            if not self.alive():
                raise DrillTimeout(f"{self.name} exited before {text!r}:\n{self.tail()}")
            return False

        return wait_for(seen, timeout=timeout, what=f"{self.name}: {text!r}")

    def tail(self, characters: int = 3000) -> str:
        return self.log_text()[-characters:]

    def kill(self) -> None:
        """SIGKILL the whole group: no cleanup, no acknowledgement, as a crash would."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the group (a warm shutdown), SIGKILL if it lingers."""
        if self.process is None:
            return
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        # Children of a dead leader (gunicorn workers, celery pool) may outlive it briefly.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


class PrivateRedis:
    """A throwaway `redis-server` on a free port, no persistence, in its own folder."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.child = Child(
            name=f"redis:{self.port}",
            argv=[
                REDIS_SERVER_BINARY,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            env=dict(os.environ),
            log=folder / "redis.log",
        )

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        self.child.start()
        wait_for(self.ping, timeout=20, what="the private redis-server")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url(), socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self.child.stop(timeout=10)


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    """Figures and checks of one run; ``verdict()`` prints PASS/FAIL and gives the exit code."""

    title: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def figure(self, name: str, value: object) -> None:
        print(f"  {name + ':':<34} {value}", flush=True)

    def check(self, name: str, ok: bool, detail: object = "") -> bool:
        self.checks.append((name, bool(ok), str(detail)))
        mark = "ok  " if ok else "FAIL"
        suffix = f"  ({detail})" if detail != "" else ""
        print(f"  [{mark}] {name}{suffix}", flush=True)
        return bool(ok)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def verdict(self) -> int:
        failed = [name for name, ok, _ in self.checks if not ok]
        seconds = time.monotonic() - self.started
        print(f"  {'load average (1 5 15 min):':<34} {load_average()}")
        if not self.checks:
            print(f"FAIL {self.title}: no check ran ({seconds:.1f} s)", flush=True)
            return 1
        if failed:
            print(f"FAIL {self.title}: {', '.join(failed)} ({seconds:.1f} s)", flush=True)
            return 1
        print(f"PASS {self.title}: {len(self.checks)} checks ({seconds:.1f} s)", flush=True)
        return 0


# --- a drill: scratch database, private Redis, children, cleanup --------------------------------


class Drill:
    """Context of one drill run. Leaving the ``with`` block stops every child, the private Redis,
    drops the scratch database and removes the temporary folder (kept with ``keep=True``).

        with Drill("worker killed mid-draw", database="suanli_drill_worker_killed") as drill:
            drill.django_setup()
            worker = drill.start_worker()
            ...
            drill.report.check("exactly one result", count == 1, count)
        return drill.report.verdict()
    """

    def __init__(
        self,
        title: str,
        *,
        database: str | None,
        private_redis: bool = True,
        redis_url: str | None = None,
        keep: bool = False,
        settings_module: str = "portal.settings.base",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.title = title
        self.database = database
        self.keep = keep
        self.report = Report(title)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"suanli-drill-{database or 'embedded'}-"))
        self.children: list[Child] = []
        self.redis: PrivateRedis | None = None
        self._private_redis = private_redis and redis_url is None
        self._redis_url = redis_url
        self._settings_module = settings_module
        self._extra_env = extra_env or {}
        self.env: dict[str, str] = {}
        self.mail_dir = self.tmp / "mail"

    # The environment of this process and of every child.
    def __enter__(self) -> Drill:
        print(f"== {self.title}", flush=True)
        print(f"  {'load average at start:':<34} {load_average()}", flush=True)
        env = dict(os.environ)
        for name in ("DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER", "EMAIL_URL"):
            env.pop(name, None)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": self._settings_module,
                "SUANLI_VAR_DIR": str(self.tmp / "var"),
                "DJANGO_LOG_LEVEL": env.get("DJANGO_LOG_LEVEL", "WARNING"),
                "SUANLI_STAFF_ALERT_EMAILS": "drill-ops@suanli.localhost",
                # E-mails land as files the drill can count ("each reminder sent once").
                "EMAIL_URL": f"filemail:///{self.mail_dir}",
                "DJANGO_STATIC_ROOT": str(self.tmp / "static"),
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
            }
        )
        (self.tmp / "var").mkdir(parents=True, exist_ok=True)
        (self.tmp / "static").mkdir(parents=True, exist_ok=True)
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        if self.database:
            env["DATABASE_URL"] = database_create(self.database, template=migrated_template())
        else:
            env.pop("DATABASE_URL", None)
        if self._private_redis:
            self.redis = PrivateRedis(self.tmp / "redis").start()
            env["CELERY_BROKER_URL"] = self.redis.url(0)
            env["CACHE_URL"] = self.redis.url(1)
        elif self._redis_url:
            env["CELERY_BROKER_URL"] = self._redis_url
            env["CACHE_URL"] = self._redis_url
        else:
            env.pop("CELERY_BROKER_URL", None)
            env.pop("CACHE_URL", None)
        env.update(self._extra_env)
        self.env = env
        os.environ.clear()
        os.environ.update(env)
        return self

    def __exit__(self, *exc_info) -> None:
        for child in reversed(self.children):
            child.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.database:
            with contextlib.suppress(Exception):
                database_drop(self.database)
        if self.keep:
            print(f"  kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if exc_info[0] is DrillTimeout:
            # A timeout is a failed drill with a reason, not a traceback.
            self.report.check("finished in time", False, exc_info[1])
            return True  # type: ignore[return-value]
        return None

    def django_setup(self, *, migrate: bool = True) -> None:
        import django

        django.setup()
        if migrate:
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)

    # --- children ------------------------------------------------------------------------------

    def spawn(self, name: str, argv: list[str], *, env: dict[str, str] | None = None) -> Child:
        child = Child(
            name=name, argv=argv, env={**self.env, **(env or {})}, log=self.tmp / f"{name}.log"
        )
        self.children.append(child.start())
        return child

    def start_worker(
        self,
        name: str = "worker",
        *,
        concurrency: int = 2,
        queues: str | None = None,
        wait: bool = True,
        env: dict[str, str] | None = None,
    ) -> Child:
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--hostname={name}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        if queues:
            argv.append(f"--queues={queues}")
        child = self.spawn(name, argv, env=env)
        if wait:
            child.wait_log("ready.", timeout=90)
        return child

    def start_beat(self, name: str = "beat", *, env: dict[str, str] | None = None) -> Child:
        # Each beat its own schedule file: two beats "by mistake" are two deployments' worth.
        return self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.tmp / f"{name}-schedule"),
            ],
            env=env,
        )

    def start_receiver(
        self, *, secret: str, port: int | None = None, name: str = "receiver"
    ) -> tuple[Child, str, Path]:
        """The reference center receiver; returns (child, base URL, its SQLite file)."""
        port = port or free_port()
        database = self.tmp / f"{name}.sqlite3"
        child = self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "receiver",
                "--port",
                str(port),
                "--secret",
                secret,
                "--db",
                str(database),
            ],
        )
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: http_ok(url + "stats"), timeout=30, what=f"{name} at {url}")
        return child, url, database

    def start_gunicorn(
        self,
        *,
        port: int | None = None,
        workers: int = 2,
        name: str = "gunicorn",
        env: dict[str, str] | None = None,
    ) -> tuple[Child, str]:
        """The portal behind gunicorn, as `runportal` starts it; returns (child, base URL)."""
        port = port or free_port()
        child = self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
            ],
            env=env,
        )
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: http_ok(url + "api/schema/"), timeout=60, what=f"{name} at {url}")
        return child, url

    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """`manage.py <args>` in a child with the drill's environment (output captured)."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def broker_purge(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "celery", "-A", "portal", "purge", "-f"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    # --- e-mail written by the filebased backend -----------------------------------------------

    def mails(self) -> list:
        """Every e-mail sent so far, parsed (one file per connection, messages separated)."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(message_from_bytes(chunk.strip()))
        return messages


def http_ok(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def eligible_applications_insert(
    round_, count: int, *, prefix: str, strata: tuple[str, ...] = ("",)
) -> None:
    """`count` eligible applications in `round_`, inserted by PostgreSQL in one statement (a
    million in seconds, where the ORM would take minutes): copies of one template row with
    references `<prefix>-0000001`…, distinct USCCs and e-mails, strata taken in turn from
    `strata`, one second apart. For the big draws of the drills and benches, on PostgreSQL."""
    import datetime as dt

    from django.db import connection

    from applications.models import Application

    template = Application.objects.create(
        reference=f"{prefix}-TEMPLATE", round=round_, company_legal_name="模板科技有限公司",
        uscc="91230184MA1BUFLT44", registration_city="wuhan", founded_on=dt.date(2024, 1, 1),
        employees=5, revenue_band="pre_revenue", founder_name="张伟", email="t@example.cn",
        mobile="+8613800138000", gpu_hours_requested=1000, purpose="drill", consent_terms=True,
        language="zh-hans", status="ineligible", submitted_at=round_.opens_at,
    )  # fmt: skip
    varying = {"id", "reference", "uscc", "email", "stratum", "status", "submitted_at"}
    copied = [f.column for f in Application._meta.concrete_fields if f.column not in varying]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO applications_application
                ({", ".join(copied)}, reference, uscc, email, stratum, status, submitted_at)
            SELECT {", ".join("t." + c for c in copied)},
                   %s || '-' || lpad(g::text, 7, '0'), lpad(g::text, 18, '0'),
                   'f' || g || '@example.cn', (%s::text[])[1 + g %% %s], 'eligible',
                   t.submitted_at + g * interval '1 second'
            FROM applications_application t, generate_series(1, %s) g WHERE t.id = %s
            """,  # noqa: S608 - column names come from the model, values are parameters
            [prefix, list(strata), len(strata), count, template.pk],
        )


def founder_answers(
    *, csrf_token: str, uscc: str, serial: int, round_code: str, center_code: str, commit_by: str
) -> dict[str, str]:
    """The one-page form as a founder fills it in, for the load test and the page benchmark:
    a valid company of 7 people, one center, an open-weights commitment due ``commit_by``."""
    return {
        "csrfmiddlewaretoken": csrf_token,
        "company_fax": "",  # the honeypot: empty, as people leave it
        "company_legal_name": f"Rush Intelligence Ltd {uscc}",
        "uscc": uscc,
        "registration_city": "wuhan",
        "founded_on": "2024-03-15",
        "employees": "7",
        "revenue_band": "pre_revenue",
        "website": "",
        "founder_name": "Li Na",
        "email": f"founder{serial}@rush.example.cn",
        "mobile": "138 0013 8000",
        "round": round_code,
        "center_1": center_code,
        "center_2": "",
        "center_3": "",
        "gpu_hours_requested": "1000",
        "purpose": "Fine-tune a small open model for Chinese legal documents.",
        "commit_open_weights": "on",
        "commit_open_weights_date": commit_by,
        "consent_terms": "on",
    }
