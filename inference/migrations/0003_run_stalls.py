"""Record stalls on inference runs: when the last progress was, how often the run stalled
and how many photos were queued again."""
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("inference", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="inferencerun",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name="updated at"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="inferencerun",
            name="stall_count",
            field=models.PositiveIntegerField(default=0, verbose_name="stalls"),
        ),
        migrations.AddField(
            model_name="inferencerun",
            name="requeued_count",
            field=models.PositiveIntegerField(default=0, verbose_name="photos queued again"),
        ),
        migrations.AddField(
            model_name="inferencerun",
            name="stalled_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last stalled at"),
        ),
        migrations.AlterField(
            model_name="inferencerun",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("stalled", "Stalled, photos queued again"),
                    ("completed", "Completed"),
                    ("failed", "Failed"),
                ],
                default="queued",
                max_length=20,
                verbose_name="status",
            ),
        ),
    ]
