from django.db import migrations, models
from django.db.models import F


def withhold_earlier_replays(apps, schema_editor):
    """Calls recorded before: a step's exchange whose caller is not the collection's
    owner was made with the owner's secrets, and keeps them no longer."""
    Exchange = apps.get_model("operations", "Exchange")
    RunStep = apps.get_model("operations", "RunStep")
    theirs = (
        RunStep.objects.filter(exchange__isnull=False)
        .exclude(exchange__owner_id=F("run__collection__owner_id"))
        .values("exchange_id")
    )
    Exchange.objects.filter(pk__in=theirs).update(secret_values="", secrets_withheld=True)


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0005_pending_import"),
    ]

    operations = [
        migrations.AddField(
            model_name="exchange",
            name="secrets_withheld",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(withhold_earlier_replays, migrations.RunPython.noop),
    ]
