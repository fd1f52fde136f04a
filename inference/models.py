"""Model versions, the predictions they make and the daily runs that make them.

Nothing here imports torch: the web process reads these tables, only workers load models.
"""
from django.db import models, transaction
from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspection.models import Label, Photo


class ModelVersionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True).first()


def weights_upload_path(version, filename):
    return f"models/{version.name}.pt"


class ModelVersion(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    label_codes = models.JSONField(_("labels in output order"))
    weights = models.FileField(_("weights file"), upload_to=weights_upload_path, max_length=255)
    weights_sha256 = models.CharField(max_length=64, blank=True)
    ood_threshold = models.FloatField(_("OOD threshold (maximum logit)"))
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    evaluation = models.JSONField(_("evaluation report"), default=dict, blank=True)
    training_settings = models.JSONField(_("training settings"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_model_version"),
        ]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")

    def __str__(self):
        return self.name

    def activate(self):
        """Make this the version that classifies new photos, deactivating the previous one."""
        with transaction.atomic():
            ModelVersion.objects.select_for_update().filter(is_active=True).exclude(pk=self.pk).update(is_active=False)
            self.is_active = True
            self.activated_at = timezone.now()
            self.save(update_fields=["is_active", "activated_at"])


class InferenceRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        # No progress for SOFAR_RUN_STALL_SECONDS and no task waiting: its missing photos
        # were queued again and wait for a worker (inference.services.stalls).
        STALLED = "stalled", _("Stalled, photos queued again")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    target_date = models.DateField(_("day"), db_index=True)
    model_version = models.ForeignKey(ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    photo_count = models.PositiveIntegerField(_("photos queued"), default=0)
    batch_count = models.PositiveIntegerField(_("batches"), default=0)
    classified_count = models.PositiveIntegerField(_("classified"), default=0)
    ood_count = models.PositiveIntegerField(_("out of distribution"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Saved by every recount of the run, so it is the time of its last progress.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    stall_count = models.PositiveIntegerField(_("stalls"), default=0)
    requeued_count = models.PositiveIntegerField(_("photos queued again"), default=0)
    stalled_at = models.DateTimeField(_("last stalled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("inference run")
        verbose_name_plural = _("inference runs")

    def __str__(self):
        return f"run {self.pk} of {self.target_date}"

    @property
    def done_count(self):
        return self.classified_count + self.failed_count

    @property
    def is_finished(self):
        return self.status in {self.Status.COMPLETED, self.Status.FAILED}


class InferenceRunItem(models.Model):
    """One photo a run queued, and what became of it; the run's counts are sums of these."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CLASSIFIED = "classified", _("Classified")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(InferenceRun, on_delete=models.CASCADE, related_name="items")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="run_items")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "photo"], name="one_item_per_run_and_photo")]
        indexes = [models.Index(fields=["run", "status"])]


# Labels that put a photo in the inspector queue.
QUEUE_LABEL_CODES = ("DIRT", "DEFECT")


def queue_probability(top1_code, top1_probability, top2_code, top2_probability):
    """Return the highest probability of a queue label among the top-2, or 0 when neither is one."""
    probabilities = [0.0]
    if top1_code in QUEUE_LABEL_CODES:
        probabilities.append(top1_probability)
    if top2_code in QUEUE_LABEL_CODES:
        probabilities.append(top2_probability)
    return max(probabilities)


class PredictionQuerySet(models.QuerySet):
    def mark_latest(self, photo_ids):
        """Set `is_latest` on the newest prediction of each photo in `photo_ids` and clear it on the others.

        Callers lock the photos first, so that two transactions adding predictions of one
        photo cannot both leave theirs flagged.
        """
        newest = Prediction.objects.filter(photo=OuterRef("photo")).order_by("-created_at", "-id").values("id")[:1]
        return self.filter(photo_id__in=photo_ids).update(
            is_latest=Case(When(id=Subquery(newest), then=Value(True)), default=Value(False))
        )


class Prediction(models.Model):
    """The top-2 labels one model version gives one photo, with the OOD verdict."""

    photo = models.ForeignKey(Photo, verbose_name=_("photo"), on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="predictions")
    inference_run = models.ForeignKey(InferenceRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions")
    top1_label = models.ForeignKey(Label, verbose_name=_("top-1 label"), on_delete=models.PROTECT, related_name="+")
    top1_probability = models.FloatField(_("top-1 probability"))
    top2_label = models.ForeignKey(Label, verbose_name=_("top-2 label"), on_delete=models.PROTECT, related_name="+")
    top2_probability = models.FloatField(_("top-2 probability"))
    max_logit = models.FloatField(_("maximum logit"))
    is_ood = models.BooleanField(_("out of distribution"), db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Stored when the prediction is written, so that the queue ranks photos and car groups
    # with an index instead of reading every prediction of the day.
    queue_probability = models.FloatField(_("queue probability"), default=0.0)
    # True on the photo's newest prediction only (by created_at, then id); see mark_latest.
    is_latest = models.BooleanField(_("newest of its photo"), default=True)
    # A copy of the photo's upload time, which no code path changes after upload, so that
    # the queue and the counts of a day read these indexes without joining the photos.
    photo_uploaded_at = models.DateTimeField(_("photo uploaded at"))

    objects = PredictionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["photo", "model_version"], name="one_prediction_per_photo_and_version"),
        ]
        indexes = [
            models.Index(fields=["top1_label", "is_ood"]),
            models.Index(fields=["top2_label", "is_ood"]),
            # The queue walks the *_rank indexes in rank order and stops after one page; the
            # upload time is in them so that other days' rows are skipped without the table.
            # The *_day ones serve the counts of a day.
            models.Index(
                fields=["-queue_probability", "photo", "photo_uploaded_at"],
                condition=Q(is_latest=True, is_ood=False, queue_probability__gt=0),
                name="prediction_queue_rank",
            ),
            models.Index(
                fields=["photo_uploaded_at"],
                condition=Q(is_latest=True, is_ood=False, queue_probability__gt=0),
                name="prediction_queue_day",
            ),
            models.Index(
                fields=["max_logit", "photo", "photo_uploaded_at"], condition=Q(is_latest=True, is_ood=True), name="prediction_ood_rank"
            ),
            models.Index(fields=["photo_uploaded_at"], condition=Q(is_latest=True, is_ood=True), name="prediction_ood_day"),
        ]
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")

    def __str__(self):
        return f"prediction of photo {self.photo_id} by {self.model_version_id}"

    def save(self, *args, **kwargs):
        """Save, filling `queue_probability` and `photo_uploaded_at`; a new prediction becomes its
        photo's latest if it is the newest."""
        self.queue_probability = queue_probability(
            self.top1_label.code, self.top1_probability, self.top2_label.code, self.top2_probability
        )
        self.photo_uploaded_at = self.photo.uploaded_at
        if not self._state.adding:
            return super().save(*args, **kwargs)
        with transaction.atomic():
            list(Photo.objects.select_for_update().filter(pk=self.photo_id).values_list("pk"))
            super().save(*args, **kwargs)
            Prediction.objects.mark_latest([self.photo_id])
        self.refresh_from_db(fields=["is_latest"])

    def probability_of(self, label_code):
        if self.top1_label.code == label_code:
            return self.top1_probability
        if self.top2_label.code == label_code:
            return self.top2_probability
        return 0.0


class TrainingJob(models.Model):
    """A training run requested from the screens or the API, executed on the `training` queue."""

    # The stages training reports progress in (inference.ml.training), as people read them.
    STAGE_NAMES = {"features": _("Extracting features"), "finetune": _("Fine-tuning")}

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    config = models.JSONField(_("training settings"), default=dict, blank=True)
    activate = models.BooleanField(_("activate when done"), default=False)
    stage = models.CharField(_("stage"), max_length=50, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_jobs")
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")

    def __str__(self):
        return f"training job {self.pk}"

    @property
    def percent(self):
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    @property
    def stage_display(self):
        return self.STAGE_NAMES.get(self.stage, self.stage)
