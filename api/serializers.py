"""Request and response shapes of the API. Serializers validate and present; services change state."""
import re

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from inference.models import InferenceRun, ModelVersion, Prediction
from inference.services.days import validate_day
from inspection.models import Car, Label, Photo, Review, TrainingLabel, WorkOrder

LABEL_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class LabelCodeField(serializers.SlugRelatedField):
    """A label named by its code, e.g. "DIRT"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Label.objects.all())
        super().__init__(**kwargs)


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", read_only=True, **kwargs)


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["code", "name_en", "name_ko", "action", "aliases", "position", "is_active"]

    code = serializers.RegexField(
        LABEL_CODE,
        max_length=50,
        validators=[UniqueValidator(queryset=Label.objects.all())],
        error_messages={"invalid": _("Use upper-case letters, digits and underscores, starting with a letter (e.g. DIRT).")},
        help_text="Upper-case identifier such as DIRT; cannot change once created.",
    )
    aliases = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Model versions store their output order as codes, so renaming a code would
        # silently detach every trained version from this label.
        if self.instance is not None:
            self.fields["code"].read_only = True



class PredictionSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(slug_field="name", read_only=True)
    top1_label = LabelCodeField(read_only=True)
    top2_label = LabelCodeField(read_only=True)

    class Meta:
        model = Prediction
        fields = [
            "id", "photo", "model_version", "inference_run", "top1_label", "top1_probability",
            "top2_label", "top2_probability", "max_logit", "is_ood", "created_at",
        ]
        read_only_fields = fields


class TrainingLabelSerializer(serializers.ModelSerializer):
    labels = LabelCodeField(many=True, read_only=True)
    author = UsernameField(allow_null=True)

    class Meta:
        model = TrainingLabel
        fields = ["id", "labels", "is_irrelevant", "source", "author", "created_at"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    labels = LabelCodeField(many=True, read_only=True)
    author = UsernameField()

    class Meta:
        model = Review
        fields = ["id", "photo", "prediction", "action", "labels", "training_label", "author", "created_at", "withdrawn_at"]
        read_only_fields = fields


class PhotoSummarySerializer(serializers.ModelSerializer):
    car = serializers.SlugRelatedField(slug_field="plate", read_only=True, allow_null=True)
    reservation = serializers.CharField(source="reservation_id", read_only=True)
    image_url = serializers.SerializerMethodField(help_text="The photo file (needs a logged-in browser session).")
    thumbnail_url = serializers.SerializerMethodField(help_text="A JPEG thumbnail (needs a logged-in browser session).")

    class Meta:
        model = Photo
        fields = [
            "id", "car", "reservation", "event", "taken_at", "uploaded_at", "status", "failure_reason",
            "original_name", "sha256", "size_bytes", "width", "height", "revision", "image_url", "thumbnail_url",
        ]
        read_only_fields = fields
        extra_kwargs = {"revision": {"help_text": "Send this back with a review; a changed photo answers 409."}}

    def _absolute(self, name, photo):
        path = reverse(name, args=[photo.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_image_url(self, photo) -> str:
        return self._absolute("inspection:photo_image", photo)

    def get_thumbnail_url(self, photo) -> str:
        return self._absolute("inspection:photo_thumbnail", photo)


def newest_prediction_of(photo):
    """Use the prefetched predictions (newest first) when the view loaded them."""
    predictions = getattr(photo, "predictions_newest_first", None)
    if predictions is None:
        predictions = photo.predictions.select_related("model_version", "top1_label", "top2_label").order_by("-created_at", "-id")[:1]
    return predictions[0] if predictions else None


class PhotoSerializer(PhotoSummarySerializer):
    prediction = serializers.SerializerMethodField(help_text="The newest prediction, or null before classification.")

    class Meta(PhotoSummarySerializer.Meta):
        fields = PhotoSummarySerializer.Meta.fields + ["prediction"]
        read_only_fields = fields

    @cached_property
    def prediction_serializer(self):
        # One nested serializer for every photo of a list: building one per photo cost more
        # than the rest of the response.
        return PredictionSerializer(context=self.context)

    @extend_schema_field(PredictionSerializer(allow_null=True))
    def get_prediction(self, photo):
        prediction = newest_prediction_of(photo)
        return self.prediction_serializer.to_representation(prediction) if prediction else None


class PhotoDetailSerializer(PhotoSerializer):
    reviews = ReviewSerializer(many=True, read_only=True, help_text="Reviews, newest first, undone ones included.")
    training_label = serializers.SerializerMethodField(help_text="The label training uses now, or null.")

    class Meta(PhotoSerializer.Meta):
        fields = PhotoSerializer.Meta.fields + ["reviews", "training_label"]
        read_only_fields = fields

    @extend_schema_field(TrainingLabelSerializer(allow_null=True))
    def get_training_label(self, photo):
        current = (
            TrainingLabel.objects.current().filter(photo=photo).select_related("author").prefetch_related("labels").first()
        )
        return TrainingLabelSerializer(current, context=self.context).data if current else None


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(allow_empty_file=True, help_text="JPEG, PNG, HEIC or WebP; limits: SOFAR_MAX_UPLOAD_BYTES, SOFAR_MAX_IMAGE_PIXELS.")
    car = serializers.CharField(required=False, allow_blank=True, max_length=32, help_text="Number plate; the car is created if new.")
    reservation = serializers.CharField(required=False, allow_blank=True, max_length=64)
    event = serializers.ChoiceField(choices=Photo.Event.choices, default=Photo.Event.OTHER)
    taken_at = serializers.DateTimeField(required=False, allow_null=True)
    classify = serializers.BooleanField(
        default=False,
        help_text="Classify at once on the inference queue with the active model version, instead of in the daily run.",
    )


class ReviewCreateSerializer(serializers.Serializer):
    photo = serializers.PrimaryKeyRelatedField(queryset=Photo.objects.all())
    action = serializers.ChoiceField(choices=Review.Action.choices)
    labels = LabelCodeField(many=True, required=False, help_text="Label codes; required with action correct, refused otherwise.")
    revision = serializers.IntegerField(min_value=0, help_text="The photo's revision as the client read it.")

    def validate_labels(self, labels):
        inactive = [label.code for label in labels if not label.is_active]
        if inactive:
            raise serializers.ValidationError(_("These labels are no longer in use: %(codes)s.") % {"codes": ", ".join(inactive)})
        return labels

    def validate(self, data):
        labels = data.get("labels") or []
        if data["action"] == Review.Action.CORRECT and not labels:
            raise serializers.ValidationError({"labels": [_("Choose at least one label to correct the prediction.")]})
        if data["action"] != Review.Action.CORRECT and labels:
            raise serializers.ValidationError({"labels": [_("Labels are given only with the action correct.")]})
        return data


class ReviewCreatedSerializer(ReviewSerializer):
    training_label = TrainingLabelSerializer(read_only=True)
    photo_revision = serializers.IntegerField(source="photo.revision", read_only=True, help_text="The photo's new revision.")

    class Meta(ReviewSerializer.Meta):
        fields = ReviewSerializer.Meta.fields + ["photo_revision"]
        read_only_fields = fields


class WorkOrderSerializer(serializers.ModelSerializer):
    car = serializers.SlugRelatedField(slug_field="plate", read_only=True)
    zone = serializers.CharField(source="car.zone", read_only=True)
    labels = LabelCodeField(many=True, read_only=True)
    created_by = UsernameField()
    status_changed_by = UsernameField(allow_null=True)

    class Meta:
        model = WorkOrder
        fields = [
            "id", "car", "zone", "kind", "status", "labels", "photos", "note",
            "created_by", "created_at", "updated_at", "status_changed_by",
        ]
        read_only_fields = fields


class WorkOrderCreateSerializer(serializers.Serializer):
    car = serializers.SlugRelatedField(slug_field="plate", queryset=Car.objects.all(), help_text="Number plate.")
    kind = serializers.ChoiceField(choices=WorkOrder.Kind.choices)
    photos = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Photo.objects.all(), help_text="Photo ids of this car.")
    labels = LabelCodeField(many=True, required=False)

    def validate(self, data):
        foreign = [photo.pk for photo in data.get("photos", []) if photo.car_id != data["car"].pk]
        if foreign:
            raise serializers.ValidationError(
                {"photos": [_("Photos %(ids)s are not of car %(plate)s.") % {"ids": ", ".join(map(str, foreign)), "plate": data["car"].plate}]}
            )
        return data


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=WorkOrder.Status.choices,
        help_text="open → dispatched → done; open or dispatched → cancelled.",
    )


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "name", "created_at", "label_codes", "ood_threshold", "metrics", "is_active", "activated_at"]
        read_only_fields = fields


class ModelVersionDetailSerializer(ModelVersionSerializer):
    class Meta(ModelVersionSerializer.Meta):
        fields = ModelVersionSerializer.Meta.fields + ["evaluation", "training_settings"]
        read_only_fields = fields


class InferenceRunSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = InferenceRun
        fields = [
            "id", "target_date", "model_version", "status", "photo_count", "batch_count",
            "classified_count", "ood_count", "failed_count", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


class RunCreateSerializer(serializers.Serializer):
    date = serializers.DateField(validators=[validate_day], help_text="Classify the photos uploaded on this day (local time zone).")


class QueueQuerySerializer(serializers.Serializer):
    """Query parameters of the queue, the filters of the queue screen."""

    date = serializers.DateField(required=False, validators=[validate_day], help_text="The day (YYYY-MM-DD, local time zone); today by default.")
    label = serializers.ChoiceField(
        choices=["DIRT", "DEFECT", "BOTH"], required=False, help_text="Only Dirt, only Defect, or photos with both; both kinds by default."
    )
    reviewed = serializers.ChoiceField(choices=["yes", "no"], required=False, help_text="Only reviewed or only unreviewed photos.")
    min_probability = serializers.FloatField(min_value=0, max_value=1, default=0.0, help_text="Minimum Dirt or Defect probability.")
    cursor = serializers.CharField(required=False, help_text="The `next` cursor of the previous page.")
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=20, help_text="Car groups per page.")


class QueueItemSerializer(serializers.Serializer):
    photo = PhotoSummarySerializer()
    prediction = PredictionSerializer()
    urgency = serializers.FloatField(help_text="Highest Dirt or Defect probability of the photo.")


class ReviewedQueueItemSerializer(QueueItemSerializer):
    review = ReviewSerializer(allow_null=True, help_text="The newest review nobody undid, or null.")


class CarGroupSerializer(serializers.Serializer):
    car = serializers.CharField(source="car.plate", allow_null=True, default=None, help_text="Number plate, null for a photo with no car.")
    zone = serializers.CharField(source="car.zone", allow_null=True, default=None)
    reservation = serializers.CharField(source="reservation_id")
    label_codes = serializers.ListField(child=serializers.CharField(), help_text="DIRT and/or DEFECT.")
    urgency = serializers.FloatField(help_text="Highest Dirt or Defect probability among the car's photos.")
    items = ReviewedQueueItemSerializer(many=True)


class QueueSerializer(serializers.Serializer):
    date = serializers.DateField()
    next = serializers.URLField(allow_null=True, help_text="URL of the next page of car groups, or null on the last page.")
    groups = CarGroupSerializer(many=True, help_text="Cars with Dirt or Defect in a photo's top-2, most urgent first.")
    ood_count = serializers.IntegerField(help_text="How many of the day's photos are out of distribution.")
    ood_items = QueueItemSerializer(
        many=True,
        help_text=(
            "The day's first 50 photos kept out of the queue as out of distribution, lowest maximum logit first "
            "(on every page); all of them: /api/v1/photos/?day=YYYY-MM-DD&ood=true."
        ),
    )
