"""Store what the inspector queue ranks by on each prediction: the highest Dirt or Defect
probability among its top-2, whether it is its photo's newest and a copy of the photo's
upload time, with partial indexes in rank order and by day. Existing rows are filled by
three UPDATE statements."""
import django.utils.timezone
from django.db import migrations, models
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Greatest

# Fixed here rather than imported, so that this migration keeps its meaning if the queue's
# labels change later.
QUEUE_LABEL_CODES = ("DIRT", "DEFECT")


def fill_queue_ranking(apps, schema_editor):
    Label = apps.get_model("inspection", "Label")
    Prediction = apps.get_model("inference", "Prediction")
    queue_label_ids = list(Label.objects.filter(code__in=QUEUE_LABEL_CODES).values_list("id", flat=True))

    def probability_if_queue_label(rank):
        return Case(
            When(**{f"top{rank}_label_id__in": queue_label_ids}, then=F(f"top{rank}_probability")),
            default=Value(0.0),
            output_field=models.FloatField(),
        )

    Prediction.objects.update(queue_probability=Greatest(probability_if_queue_label(1), probability_if_queue_label(2)))
    newest = Prediction.objects.filter(photo=OuterRef("photo")).order_by("-created_at", "-id").values("id")[:1]
    Prediction.objects.update(is_latest=Case(When(id=Subquery(newest), then=Value(True)), default=Value(False)))
    Photo = apps.get_model("inspection", "Photo")
    Prediction.objects.update(photo_uploaded_at=Subquery(Photo.objects.filter(pk=OuterRef("photo_id")).values("uploaded_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("inference", "0003_run_stalls"),
        ("inspection", "0004_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="is_latest",
            field=models.BooleanField(default=True, verbose_name="newest of its photo"),
        ),
        migrations.AddField(
            model_name="prediction",
            name="queue_probability",
            field=models.FloatField(default=0.0, verbose_name="queue probability"),
        ),
        migrations.AddField(
            model_name="prediction",
            name="photo_uploaded_at",
            # Replaced by the photo's upload time in fill_queue_ranking.
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="photo uploaded at"),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("is_latest", True), ("is_ood", False), ("queue_probability__gt", 0)),
                fields=["-queue_probability", "photo", "photo_uploaded_at"],
                name="prediction_queue_rank",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("is_latest", True), ("is_ood", False), ("queue_probability__gt", 0)),
                fields=["photo_uploaded_at"],
                name="prediction_queue_day",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("is_latest", True), ("is_ood", True)),
                fields=["max_logit", "photo", "photo_uploaded_at"],
                name="prediction_ood_rank",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("is_latest", True), ("is_ood", True)), fields=["photo_uploaded_at"], name="prediction_ood_day"
            ),
        ),
        # After the indexes: on PostgreSQL, the UPDATEs leave deferred foreign-key checks
        # pending until commit, and CREATE INDEX refuses to run while any are.
        migrations.RunPython(fill_queue_ranking, migrations.RunPython.noop),
    ]
