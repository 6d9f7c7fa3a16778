"""Generate the monthly service days of a range of months (idempotent)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from events.services.days import service_days_generate


def _month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise CommandError(f"Not a month (YYYY-MM): {value!r}") from exc


class Command(BaseCommand):
    help = "Create the last-Saturday service day of each month from --from to --to (YYYY-MM)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, type=_month)
        parser.add_argument("--to", dest="last", required=True, type=_month)

    def handle(self, *args, first, last, **options):
        if last < first:
            raise CommandError("--to is before --from.")
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        created = service_days_generate(first_month=first, months=months)
        for day in created:
            self.stdout.write(f"{day.date:%Y-%m-%d}")
        self.stdout.write(f"{len(created)} service day(s) created, {months - len(created)} kept.")
