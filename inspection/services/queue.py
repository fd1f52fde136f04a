"""The inspector queue of a day: cars whose photos show Dirt or Defect in their top-2 labels.

A group is a car and reservation, or a photo alone when it has no car. Its urgency is the
highest queue probability among its photos that pass the label filters, and its place in the
queue depends only on its predictions, never on whether its photos were reviewed. So the
order stays put while inspectors work, and the keyset cursor of the last group of a page
always points at the right next group.

The ranking runs in SQL and reads one page at a time. Each prediction stores its queue
probability and whether it is its photo's newest (inference.models.Prediction). A group's
leader is its photo of highest queue probability, the lowest photo id on a tie. Ordering the
leaders by (urgency descending, photo id) orders the groups, so a page is a walk down the
index `prediction_queue_rank` that stops after `size` leaders, and the cursor is the last
leader's (urgency, photo id).
"""
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from inference.models import QUEUE_LABEL_CODES, Prediction
from inference.services.days import day_bounds
from inspection.models import Photo, Review

PAGE_SIZE = 20
OOD_PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilters:
    """`label` is "" (Dirt or Defect), "DIRT", "DEFECT" or "BOTH" (Dirt and Defect on one photo);
    `reviewed` is "" (all), "yes" or "no"."""

    label: str = ""
    reviewed: str = ""
    min_probability: float = 0.0

    @property
    def label_codes(self):
        return (self.label,) if self.label in QUEUE_LABEL_CODES else QUEUE_LABEL_CODES


@dataclass
class QueueItem:
    photo: object
    prediction: object

    @property
    def urgency(self):
        return self.prediction.queue_probability

    @property
    def review(self):
        """Newest review that was not undone, or None. The photo's active reviews must be prefetched."""
        reviews = self.photo.active_reviews
        return reviews[0] if reviews else None


@dataclass
class CarGroup:
    car: object
    reservation_id: str
    leader_photo_id: int
    items: list = field(default_factory=list)
    urgency: float = 0.0

    @property
    def cursor(self):
        return f"{self.urgency!r}|{self.leader_photo_id}"

    @property
    def label_codes(self):
        codes = set()
        for item in self.items:
            codes.update(code for code in QUEUE_LABEL_CODES if item.prediction.probability_of(code) > 0)
        return [code for code in QUEUE_LABEL_CODES if code in codes]

    @property
    def photos(self):
        return [item.photo for item in self.items]


def active_reviews(lookup="reviews"):
    """Prefetch the reviews nobody undid, newest first, into `active_reviews` of the photos at `lookup`."""
    return Prefetch(
        lookup,
        queryset=Review.objects.filter(withdrawn_at__isnull=True).select_related("author").prefetch_related("labels"),
        to_attr="active_reviews",
    )


def with_page_relations(predictions):
    """Load what a page shows of each prediction: photo, car, labels, version and active reviews."""
    return (
        predictions.select_related("photo", "photo__car", "top1_label", "top2_label", "model_version")
        # A version's reports can be large JSON, and nothing in the queue shows them.
        .defer("model_version__metrics", "model_version__evaluation", "model_version__training_settings")
        .prefetch_related(active_reviews("photo__reviews"))
    )


def _label_filter(filters):
    if not filters.label:
        # The queue probability is the higher of the Dirt and Defect probabilities.
        return Q(queue_probability__gte=filters.min_probability) if filters.min_probability else Q()

    def shows(code):
        return Q(top1_label__code=code, top1_probability__gte=filters.min_probability) | Q(
            top2_label__code=code, top2_probability__gte=filters.min_probability
        )

    if filters.label == "BOTH":
        return shows("DIRT") & shows("DEFECT")
    return shows(filters.label)


def queue_predictions(day, filters=QueueFilters()):
    """Select the newest predictions of the day's photos that put them in the queue and pass the label filters."""
    start, end = day_bounds(day)
    return Prediction.objects.filter(
        is_latest=True, is_ood=False, queue_probability__gt=0, photo_uploaded_at__gte=start, photo_uploaded_at__lt=end
    ).filter(_label_filter(filters))


def _photo_is_reviewed():
    return Exists(Review.objects.filter(photo=OuterRef("photo_id"), withdrawn_at__isnull=True))


def group_leaders(day, filters=QueueFilters()):
    """Select one prediction per group of the day: the group's photo that ranks first.

    A group hidden whole by the reviewed filter has no leader. The leader itself is chosen
    without that filter, so reviewing photos never changes a group's rank.
    """
    # Equality on the car and reservation lets these subqueries use the photo indexes. A
    # photo without a car matches nothing here (NULL equals nothing), so it leads its own group.
    car_members = queue_predictions(day, filters).filter(
        photo__car_id=OuterRef("photo__car_id"), photo__reservation_id=OuterRef("photo__reservation_id")
    )
    ranked_ahead = car_members.filter(
        Q(queue_probability__gt=OuterRef("queue_probability"))
        | Q(queue_probability=OuterRef("queue_probability"), photo_id__lt=OuterRef("photo_id"))
    )
    leaders = queue_predictions(day, filters).filter(~Exists(ranked_ahead))
    if filters.reviewed:
        reviewed = _photo_is_reviewed()
        review_condition = reviewed if filters.reviewed == "yes" else ~reviewed
        leaders = leaders.filter(Exists(car_members.filter(review_condition)) | Q(review_condition, photo__car__isnull=True))
    return leaders


def parse_cursor(cursor):
    """Return (number, photo id) from a cursor, or None when it is missing or malformed.

    The number is the urgency of a queue page's last group, or the maximum logit of an OOD page's last photo.
    """
    number, _, photo_id = (cursor or "").partition("|")
    try:
        return float(number), int(photo_id)
    except ValueError:
        return None


def queue_page(day, filters=QueueFilters(), after="", size=PAGE_SIZE):
    """Return (groups, next cursor or "") of the page that follows the cursor `after`.

    1. Rank: the next `size` + 1 group leaders after the cursor, in one query.
    2. Load the photos of those groups that pass the filters, with their reviews.
    Reviewing photos never changes a group's urgency, so the groups keep their order and no
    group is skipped or shown twice from one page to the next.
    """
    # NOTE: this walk down `prediction_queue_rank` also passes over the index entries of the
    # other days, so a page costs more as the table holds more days.
    leaders = group_leaders(day, filters).order_by("-queue_probability", "photo_id")
    position = parse_cursor(after)
    if position is not None:
        urgency, photo_id = position
        leaders = leaders.filter(Q(queue_probability__lt=urgency) | Q(queue_probability=urgency, photo_id__gt=photo_id))
    rows = list(leaders.values_list("photo_id", "queue_probability", "photo__car_id", "photo__reservation_id")[: size + 1])
    page = rows[:size]
    if not page:
        return [], ""

    groups = _load_groups(day, filters, page)
    last_photo_id, last_urgency = page[-1][:2]
    next_cursor = f"{last_urgency!r}|{last_photo_id}" if len(rows) > size else ""
    return groups, next_cursor


def _load_groups(day, filters, leaders):
    """Return the CarGroups of `leaders` (rows of photo id, urgency, car id, reservation id), in their order."""
    in_page = Q(photo_id__in=[photo_id for photo_id, _, car_id, _ in leaders if car_id is None])
    for _, _, car_id, reservation_id in leaders:
        if car_id is not None:
            in_page |= Q(photo__car_id=car_id, photo__reservation_id=reservation_id)
    predictions = with_page_relations(queue_predictions(day, filters).filter(in_page))

    items_by_key = {}
    for prediction in predictions:
        photo = prediction.photo
        key = (photo.car_id, photo.reservation_id) if photo.car_id else photo.pk
        items_by_key.setdefault(key, []).append(QueueItem(photo, prediction))

    groups = []
    for photo_id, urgency, car_id, reservation_id in leaders:
        items = items_by_key.get((car_id, reservation_id) if car_id else photo_id, [])
        items.sort(key=lambda item: (-item.urgency, item.photo.pk))
        if filters.reviewed:
            want_reviewed = filters.reviewed == "yes"
            items = [item for item in items if (item.review is not None) == want_reviewed]
        # A review saved between the two queries can leave a group empty under the reviewed filter.
        if items:
            car = items[0].photo.car
            groups.append(CarGroup(car=car, reservation_id=reservation_id, leader_photo_id=photo_id, items=items, urgency=urgency))
    return groups


def queue_counts(day):
    """Return (photos in the queue, those without an active review) of `day`, in one query."""
    counts = queue_predictions(day).aggregate(total=Count("id"), unreviewed=Count("id", filter=~_photo_is_reviewed()))
    return counts["total"], counts["unreviewed"]


def ood_predictions(day):
    """Select the newest predictions of the day's photos that are out of distribution."""
    start, end = day_bounds(day)
    return Prediction.objects.filter(is_latest=True, is_ood=True, photo_uploaded_at__gte=start, photo_uploaded_at__lt=end)


def ood_page(day, after="", size=OOD_PAGE_SIZE):
    """Return (items, next cursor or "") of the day's out-of-distribution photos, most clearly
    out of distribution (lowest maximum logit) first; likely not a car at all."""
    predictions = ood_predictions(day).order_by("max_logit", "photo_id")
    position = parse_cursor(after)
    if position is not None:
        max_logit, photo_id = position
        predictions = predictions.filter(Q(max_logit__gt=max_logit) | Q(max_logit=max_logit, photo_id__gt=photo_id))
    page = list(with_page_relations(predictions)[: size + 1])
    items = [QueueItem(prediction.photo, prediction) for prediction in page[:size]]
    next_cursor = f"{items[-1].prediction.max_logit!r}|{items[-1].photo.pk}" if len(page) > size else ""
    return items, next_cursor


def ood_count(day):
    return ood_predictions(day).count()


def queue_item(photo):
    """Return the queue item of one photo with its newest prediction, or with None before it is classified."""
    prediction = with_page_relations(Prediction.objects.filter(photo=photo)).order_by("-created_at", "-id").first()
    if prediction is not None:
        return QueueItem(prediction.photo, prediction)
    return QueueItem(Photo.objects.select_related("car").prefetch_related(active_reviews()).get(pk=photo.pk), None)
