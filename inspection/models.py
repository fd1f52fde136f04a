"""Cars, their photos, the label scheme and the training labels people give photos."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Car(models.Model):
    plate = models.CharField(_("number plate"), max_length=32, unique=True)
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    zone = models.CharField(_("zone"), max_length=100, blank=True, db_index=True)

    class Meta:
        ordering = ["plate"]
        verbose_name = _("car")
        verbose_name_plural = _("cars")

    def __str__(self):
        return self.plate


def photo_upload_path(photo, filename):
    # The client's file name never becomes a path: the stored name is generated.
    day = timezone.localdate(photo.uploaded_at or timezone.now())
    return f"photos/{day:%Y/%m/%d}/{uuid.uuid4().hex}.{photo.file_extension}"


def thumbnail_upload_path(photo, filename):
    return f"thumbnails/{photo.sha256[:2]}/{photo.sha256}.jpg"


class Photo(models.Model):
    class Event(models.TextChoices):
        BEFORE_TRIP = "before_trip", _("Before trip")
        AFTER_TRIP = "after_trip", _("After trip")
        ACCIDENT = "accident", _("Accident")
        WASH = "wash", _("Wash")
        WASHER_FLUID = "washer_fluid", _("Washer fluid")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for classification")
        CLASSIFIED = "classified", _("Classified")
        FAILED = "failed", _("Could not be classified")

    car = models.ForeignKey(Car, verbose_name=_("car"), null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    reservation_id = models.CharField(_("reservation"), max_length=64, blank=True, db_index=True)
    event = models.CharField(_("event"), max_length=20, choices=Event.choices, default=Event.OTHER)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, db_index=True)
    file = models.FileField(_("file"), upload_to=photo_upload_path, max_length=255)
    thumbnail = models.FileField(_("thumbnail"), upload_to=thumbnail_upload_path, max_length=255, blank=True)
    file_extension = models.CharField(max_length=8)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    size_bytes = models.PositiveBigIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    # Incremented by every review and relabel: a client that acts on an older revision
    # acted on stale information and is refused (optimistic concurrency).
    revision = models.PositiveIntegerField(_("revision"), default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        permissions = [
            ("view_queue", _("Can see the inspection queue")),
            ("review_photo", _("Can review photos in the queue")),
            ("upload_photo", _("Can upload photos")),
            ("dispatch_order", _("Can dispatch a wash or a repair")),
            ("manage_orders", _("Can change and export work orders")),
            ("relabel_photo", _("Can relabel photos")),
            ("manage_labels", _("Can edit the label scheme")),
            ("manage_models", _("Can train, activate and tune model versions")),
            ("view_dashboard", _("Can see the daily dashboard")),
        ]

    def __str__(self):
        return f"photo {self.pk} ({self.original_name or self.sha256[:12]})"


class LabelQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Label(models.Model):
    class Action(models.TextChoices):
        WASH = "wash", _("Wash")
        REPAIR = "repair", _("Repair")
        NONE = "none", _("None")

    code = models.SlugField(_("code"), max_length=50, unique=True, help_text=_("Upper-case identifier, e.g. DIRT."))
    name_en = models.CharField(_("English name"), max_length=100)
    name_ko = models.CharField(_("Korean name"), max_length=100)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, default=Action.NONE)
    aliases = models.JSONField(_("aliases"), default=list, blank=True, help_text=_("Other names of this label in dataset folders."))
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = LabelQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("label")
        verbose_name_plural = _("labels")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        return self.name_ko if (get_language() or "ko").startswith("ko") else self.name_en


class TrainingLabelQuerySet(models.QuerySet):
    def current(self):
        """Return the newest training label of each photo, skipping withdrawn ones."""
        newest = (
            TrainingLabel.objects.filter(photo=models.OuterRef("photo"), withdrawn_at__isnull=True)
            .order_by("-created_at", "-id")
            .values("id")[:1]
        )
        return self.filter(withdrawn_at__isnull=True, id=models.Subquery(newest))


class TrainingLabel(models.Model):
    """A statement of what a photo shows, from a dataset or a person; the newest one counts."""

    class Source(models.TextChoices):
        DATASET = "dataset", _("Dataset import")
        INSPECTOR = "inspector", _("Inspector")
        ADMIN = "admin", _("Labeling admin")

    photo = models.ForeignKey(Photo, verbose_name=_("photo"), on_delete=models.CASCADE, related_name="training_labels")
    labels = models.ManyToManyField(Label, verbose_name=_("labels"), related_name="training_labels", blank=True)
    is_irrelevant = models.BooleanField(_("irrelevant"), default=False, help_text=_("The photo shows no car: kept out of training."))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    objects = TrainingLabelQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["photo", "-created_at"])]
        verbose_name = _("training label")
        verbose_name_plural = _("training labels")

    def __str__(self):
        return f"training label {self.pk} of photo {self.photo_id}"


class Review(models.Model):
    """An inspector's verdict on a photo's prediction; each one also becomes a training label."""

    class Action(models.TextChoices):
        CONFIRM = "confirm", _("Confirmed")
        CORRECT = "correct", _("Corrected")
        IRRELEVANT = "irrelevant", _("Irrelevant")

    photo = models.ForeignKey(Photo, verbose_name=_("photo"), on_delete=models.CASCADE, related_name="reviews")
    prediction = models.ForeignKey("inference.Prediction", verbose_name=_("prediction"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    labels = models.ManyToManyField(Label, verbose_name=_("labels"), blank=True, related_name="reviews")
    training_label = models.OneToOneField(TrainingLabel, null=True, blank=True, on_delete=models.SET_NULL, related_name="review")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="reviews")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self):
        return f"review {self.pk} of photo {self.photo_id}"


class WorkOrder(models.Model):
    """A wash or a repair dispatched for a car; at most one open order per car and kind."""

    class Kind(models.TextChoices):
        WASH = "wash", _("Wash")
        REPAIR = "repair", _("Repair")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISPATCHED = "dispatched", _("Dispatched")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.OPEN, Status.DISPATCHED)
    TRANSITIONS = {
        Status.OPEN: {Status.DISPATCHED, Status.CANCELLED},
        Status.DISPATCHED: {Status.DONE, Status.CANCELLED},
        Status.DONE: set(),
        Status.CANCELLED: set(),
    }

    car = models.ForeignKey(Car, verbose_name=_("car"), on_delete=models.PROTECT, related_name="work_orders")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    photos = models.ManyToManyField(Photo, verbose_name=_("photos"), blank=True, related_name="work_orders")
    labels = models.ManyToManyField(Label, verbose_name=_("labels"), blank=True, related_name="work_orders")
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("dispatched by"), on_delete=models.PROTECT, related_name="work_orders")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("status changed by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["car", "kind"],
                condition=Q(status__in=["open", "dispatched"]),
                name="one_open_order_per_car_and_kind",
            ),
        ]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")

    def __str__(self):
        return f"{self.get_kind_display()} order {self.pk} for {self.car}"

    def can_move_to(self, status):
        return status in self.TRANSITIONS[self.status]


class UserPreference(models.Model):
    """Per-user settings that follow the person from browser to browser."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self):
        return f"preferences of user {self.user_id}"
