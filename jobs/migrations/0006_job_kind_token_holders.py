from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0005_task_run_rollups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[
                    ("similarity", "Similarity"),
                    ("wallet_sync", "Wallet sync"),
                    ("pnl", "PnL"),
                    ("behavior", "Behaviour"),
                    ("bulk_analysis", "Bulk analysis"),
                    ("token_holders", "Token holders"),
                ],
                max_length=20,
            ),
        ),
    ]
