"""Fill Complaint.station from the provider's home station; requests'
migration 0015 then prefers the order's station where a follow-up raised it."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Complaint = apps.get_model("volunteers", "Complaint")
    Provider = apps.get_model("volunteers", "Provider")
    home = Provider.objects.filter(pk=OuterRef("provider_id")).values("station_id")[:1]
    Complaint.objects.filter(station__isnull=True).update(station_id=Subquery(home))


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0009_complaint_station")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
