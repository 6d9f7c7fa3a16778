"""Rebuild the monthly order figures (``OrderMonthStat``) of past months.

The refresh task keeps this month and last (every ten minutes); a new
installation, or orders imported from an older system, needs the months
before filled once, or the dashboards' 12-month trends start empty:

    manage.py month_stats                 every month since the first order
    manage.py month_stats --since 2025-12 from December 2025 on

Safe to run again: each month is replaced as a whole (one transaction)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from requests.models import ServiceRequest
from requests.services import order_month_stats_refresh


class Command(BaseCommand):
    help = "Rebuild the monthly order figures of past months (dashboards' trends, reports)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first month, YYYY-MM (default: the first order's)")

    def handle(self, *args, since=None, **options):
        if since:
            try:
                month = datetime.datetime.strptime(since, "%Y-%m").date()
            except ValueError as exc:
                raise CommandError("--since takes a month as YYYY-MM, e.g. 2025-12") from exc
        else:
            first = ServiceRequest.objects.order_by("received_at").values_list(
                "received_at", flat=True
            )[:1]
            if not first:
                self.stdout.write("No orders: nothing to do.")
                return
            month = timezone.localdate(first[0]).replace(day=1)
        last = timezone.localdate().replace(day=1)
        months = rows = 0
        while month <= last:
            rows += order_month_stats_refresh(month=month)
            months += 1
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        self.stdout.write(f"{months} months rebuilt, {rows} rows.")
