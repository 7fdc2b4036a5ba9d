"""Fill an empty database with believable demo data. Running it again adds nothing twice."""

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Order matters: later apps build on earlier ones (centers before applications before draws…).
DEMO_MODULES = [
    "core.demo",
    "centers.demo",
    "applications.demo",
    "lottery.demo",
    "grants.demo",
    "milestones.demo",
    "letters.demo",
    "transparency.demo",
]


class Command(BaseCommand):
    help = "Load demo data: centers, programs, rounds, applications, a completed draw, grants."

    def handle(self, *args, **options):
        for module_name in DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as error:
                if error.name == module_name:
                    continue  # that app has no demo data
                raise
            with transaction.atomic():
                module.load_demo(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
