"""manage.py verify_draw <draw_id>: check a stored draw with the standalone verifier's code,
on exactly the record the portal publishes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from lottery import selectors
from lottery import verify_draw as verifier
from lottery.models import Draw


class Command(BaseCommand):
    help = "Verify a draw's published record (suanli-draw/1) with the standalone verifier."

    def add_arguments(self, parser):
        parser.add_argument("draw_id")
        parser.add_argument("--max-report", type=int, default=100)

    def handle(self, *args, draw_id: str, max_report: int, **options):
        try:
            draw = Draw.objects.get(draw_id=draw_id)
        except Draw.DoesNotExist:
            raise CommandError(f"No draw {draw_id!r}.") from None
        record = selectors.draw_record(draw=draw)
        report = verifier.Report(max_report)
        verifier.verify(record, report)
        for line in report.notes:
            self.stdout.write(line)
        if report.total:
            for line in report.problems:
                self.stdout.write(f"MISMATCH: {line}")
            raise CommandError(f"FAILED: {report.total} mismatch(es)")
        self.stdout.write(self.style.SUCCESS("OK: the record matches suanli-draw/1"))
