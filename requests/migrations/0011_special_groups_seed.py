"""The special groups the center starts with (DOMAIN.md); more are added in the back office."""

from django.db import migrations

GROUPS = [
    # code, name, kind, sensitive, order
    ("living-alone", "独居老人", "plain", False, 10),
    ("empty-nest", "空巢老人", "plain", False, 20),
    ("disabled", "残疾人", "disability", True, 30),
    ("minimum-living", "低保户", "plain", False, 40),
    ("extreme-hardship", "特困人员", "plain", False, 50),
]


def forward(apps, schema_editor):
    SpecialGroup = apps.get_model("requests", "SpecialGroup")
    for code, name, kind, sensitive, order in GROUPS:
        SpecialGroup.objects.get_or_create(
            code=code,
            defaults={"name": name, "kind": kind, "is_sensitive": sensitive, "order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("requests", "0010_special_groups_care_wishes")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
