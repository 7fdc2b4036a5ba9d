"""Run the whole portal on one machine: web, Celery worker, Celery beat and the reference
center receiver, after migrating and loading the demo data. Ctrl-C stops everything."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Migrate, load demo data and run web + worker + beat + demo receiver together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
        parser.add_argument(
            "--no-receiver", action="store_true", help="do not start the reference center receiver"
        )

    def handle(self, *args, **options):
        base = Path(settings.BASE_DIR)
        python = sys.executable
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo")
        commands = [
            (
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--loglevel=INFO",
                    "--concurrency=2",
                ],
            ),
            (
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "beat",
                    "--loglevel=INFO",
                    "--schedule",
                    str(Path(settings.VAR_DIR) / "celerybeat-schedule"),
                ],
            ),
            (
                "web",
                [
                    python,
                    "-m",
                    "gunicorn",
                    "portal.wsgi",
                    "--bind",
                    f"{options['host']}:{options['port']}",
                    "--workers",
                    "2",
                    "--access-logfile",
                    "-",
                ],
            ),
        ]
        if not options["no_receiver"] and (base / "receiver" / "__main__.py").exists():
            receiver = urlsplit(settings.DEMO_RECEIVER_URL)
            commands.append(
                (
                    "receiver",
                    [
                        python,
                        "-m",
                        "receiver",
                        "--host",
                        receiver.hostname or "127.0.0.1",
                        "--port",
                        str(receiver.port or 8765),
                        "--secret",
                        settings.DEMO_RECEIVER_SECRET,
                        "--db",
                        str(Path(settings.VAR_DIR) / "receiver.sqlite3"),
                    ],
                )
            )
        processes = {
            name: subprocess.Popen(argv, cwd=base, env=os.environ.copy())  # noqa: S603
            for name, argv in commands
        }
        url = f"http://{options['host']}:{options['port']}/"
        time.sleep(2)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nSuanli is running at {url}\n"
                f"  staff admin:   {url}zh-hans/admin/  (user admin, reviewer, allocator or auditor; "
                f"password {DEMO_PASSWORD})\n"
                f"  apply:         {url}zh-hans/apply/   ·   English: {url}en/apply/\n"
                f"  draws:         {url}zh-hans/draws/   ·   transparency: {url}zh-hans/transparency/\n"
                f"  center receiver balances: {settings.DEMO_RECEIVER_URL}\n"
                f"Press Ctrl-C to stop.\n"
            )
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
