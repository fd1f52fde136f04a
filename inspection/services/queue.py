"""The inspector queue of a day: cars whose photos show Dirt or Defect in their top-2 labels."""
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, Subquery

from inference.models import Prediction
from inference.services.days import day_bounds

QUEUE_LABELS = ("DIRT", "DEFECT")


@dataclass
class QueueItem:
    photo: object
    prediction: object

    @property
    def urgency(self):
        return max(self.prediction.probability_of(code) for code in QUEUE_LABELS)


@dataclass
class CarGroup:
    car: object
    reservation_id: str
    items: list = field(default_factory=list)

    @property
    def urgency(self):
        return max(item.urgency for item in self.items)

    @property
    def label_codes(self):
        codes = set()
        for item in self.items:
            codes.update(code for code in QUEUE_LABELS if item.prediction.probability_of(code) > 0)
        return [code for code in QUEUE_LABELS if code in codes]


def latest_predictions(day):
    """The newest prediction of each photo uploaded on `day`, with photo, car and labels joined."""
    start, end = day_bounds(day)
    newest = Prediction.objects.filter(photo=OuterRef("photo")).order_by("-created_at", "-id").values("id")[:1]
    return (
        Prediction.objects.filter(photo__uploaded_at__gte=start, photo__uploaded_at__lt=end)
        .filter(id=Subquery(newest))
        .select_related("photo", "photo__car", "top1_label", "top2_label", "model_version")
    )


def day_queue(day, label_codes=QUEUE_LABELS, min_probability=0.0):
    """Return the day's car groups, most urgent first (highest Dirt or Defect probability)."""
    label_filter = Q()
    for code in label_codes:
        label_filter |= Q(top1_label__code=code, top1_probability__gte=min_probability)
        label_filter |= Q(top2_label__code=code, top2_probability__gte=min_probability)
    predictions = latest_predictions(day).filter(is_ood=False).filter(label_filter)

    groups = {}
    for prediction in predictions:
        photo = prediction.photo
        key = (photo.car_id, photo.reservation_id) if photo.car_id else ("photo", photo.id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = CarGroup(car=photo.car, reservation_id=photo.reservation_id)
        group.items.append(QueueItem(photo, prediction))
    for group in groups.values():
        group.items.sort(key=lambda item: -item.urgency)
    return sorted(groups.values(), key=lambda group: -group.urgency)


def day_ood_items(day):
    """Photos of `day` whose newest prediction is out of distribution: likely not a car at all."""
    predictions = latest_predictions(day).filter(is_ood=True).order_by("max_logit")
    return [QueueItem(prediction.photo, prediction) for prediction in predictions]
