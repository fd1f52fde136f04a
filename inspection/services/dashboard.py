"""The day's numbers for the dashboard: uploads, classification, queue, reviews and orders."""
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef

from inference.models import InferenceRun
from inference.services.days import day_bounds, photos_uploaded_on
from inspection.models import Photo, Review, WorkOrder
from inspection.services.queue import ood_count, queue_counts


@dataclass
class DaySummary:
    day: object
    uploaded: int
    classified: int
    ood: int
    in_queue: int
    queue_unreviewed: int
    reviewed: int
    orders_by_kind: list
    runs: list

    @property
    def has_running_run(self):
        return any(not run.is_finished for run in self.runs)


def day_summary(day):
    """Count what happened to the photos uploaded on `day` and to the orders created that day.

    Every number is an aggregate query, because the dashboard polls every 5 s while a run is running.
    """
    photos = photos_uploaded_on(Photo.objects.all(), day)
    in_queue, queue_unreviewed = queue_counts(day)
    reviewed = photos.filter(Exists(Review.objects.filter(photo=OuterRef("pk"), withdrawn_at__isnull=True)))

    start, end = day_bounds(day)
    order_counts = dict(
        WorkOrder.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("kind")
        .annotate(count=Count("id"))
        .values_list("kind", "count")
    )
    orders_by_kind = [(label, order_counts.get(kind, 0)) for kind, label in WorkOrder.Kind.choices]

    return DaySummary(
        day=day,
        uploaded=photos.count(),
        classified=photos.filter(status=Photo.Status.CLASSIFIED).count(),
        ood=ood_count(day),
        in_queue=in_queue,
        queue_unreviewed=queue_unreviewed,
        reviewed=reviewed.count(),
        orders_by_kind=orders_by_kind,
        runs=list(InferenceRun.objects.filter(target_date=day).select_related("model_version")[:5]),
    )


def run_percent(run):
    return round(100 * run.done_count / run.photo_count) if run.photo_count else 100
