from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("center", "0003_notification_message_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(
                blank=True,
                choices=[
                    ("operator", "Hotline operator"),
                    ("station_manager", "Station manager"),
                    ("center_manager", "Center manager"),
                    ("volunteer", "Volunteer"),
                    ("merchant", "Merchant"),
                ],
                max_length=20,
                verbose_name="role",
            ),
        ),
    ]
