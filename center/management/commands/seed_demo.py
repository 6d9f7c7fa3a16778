import random

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from center.demo.seed import seed_users
from center.models import Station
from center.registry import demo_parts

SEED = 96345  # fixed: the demo data is the same on every machine


class Command(BaseCommand):
    help = "Load deterministic demo data: every app's demo part (center.registry), in order."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if stations already exist."
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Station.objects.exists():
            self.stdout.write(_("Demo data already present; nothing loaded."))
        else:
            for part in demo_parts():
                # One generator per app, seeded by its name: adding an app
                # does not change another app's demo data.
                part.seed(random.Random(f"{SEED}:{part.app}"))
            self.stdout.write(self.style.SUCCESS(_("Demo data loaded.")))
        logins = seed_users()  # idempotent: existing logins keep their passwords
        self.stdout.write(_("Demo logins (mobile number or username, password):"))
        for role, username, mobile, password in logins:
            self.stdout.write(f"  {role:<12} {username:<10} {mobile}  {password}")
