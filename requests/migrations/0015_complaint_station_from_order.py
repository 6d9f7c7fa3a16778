"""A complaint raised at a follow-up call is counted at its order's station."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Complaint = apps.get_model("volunteers", "Complaint")
    FollowUp = apps.get_model("requests", "FollowUp")
    order_station = FollowUp.objects.filter(complaint_id=OuterRef("pk")).values(
        "order__station_id"
    )[:1]
    Complaint.objects.filter(
        pk__in=FollowUp.objects.filter(complaint__isnull=False).values("complaint_id")
    ).update(station_id=Subquery(order_station))


class Migration(migrations.Migration):
    dependencies = [
        ("requests", "0014_calls_unmatched_month_counts"),
        ("volunteers", "0010_complaint_station_fill"),
    ]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
