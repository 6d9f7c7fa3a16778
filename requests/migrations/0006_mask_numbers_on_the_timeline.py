"""The order timeline keeps phone numbers masked (the full number stays on the
order, behind a logged reveal): mask what earlier versions stored in clear."""

from django.db import migrations

from center.masking import mask_mobile


def mask_timeline_numbers(apps, schema_editor):
    OrderEvent = apps.get_model("requests", "OrderEvent")
    events = OrderEvent.objects.filter(
        action="requests.order.merged", data__has_key="caller_phone"
    ).only("pk", "data")
    batch = []
    for event in events.iterator(chunk_size=2000):
        number = event.data.get("caller_phone") or ""
        if number and "*" not in number:
            event.data["caller_phone"] = mask_mobile(number)
            batch.append(event)
        if len(batch) >= 2000:
            OrderEvent.objects.bulk_update(batch, ["data"])
            batch = []
    OrderEvent.objects.bulk_update(batch, ["data"])


class Migration(migrations.Migration):
    dependencies = [("requests", "0005_device_id_validator")]

    operations = [migrations.RunPython(mask_timeline_numbers, migrations.RunPython.noop)]
