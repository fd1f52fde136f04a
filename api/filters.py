"""Query filters of the list endpoints (django-filter); each parameter is documented in the schema."""
import django_filters
from django.db.models import OuterRef, Q, Subquery

from inference.models import InferenceRun, ModelVersion, Prediction
from inference.services.days import day_bounds, validate_day
from inspection.models import Label, Photo, TrainingLabel, WorkOrder


def newest_prediction_ids():
    """Subquery of the id of each photo's newest prediction, for Photo annotations."""
    newest = Prediction.objects.filter(photo=OuterRef("pk")).order_by("-created_at", "-id")
    return Subquery(newest.values("id")[:1])


def filter_on_day(queryset, field_name, day):
    start, end = day_bounds(day)
    return queryset.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


def label_in_top2(code, prefix=""):
    return Q(**{f"{prefix}top1_label__code": code}) | Q(**{f"{prefix}top2_label__code": code})


class PhotoFilter(django_filters.FilterSet):
    day = django_filters.DateFilter(method="filter_day", validators=[validate_day], help_text="Uploaded on this day (YYYY-MM-DD, local time zone).")
    car = django_filters.CharFilter(field_name="car__plate", help_text="Number plate of the car.")
    reservation = django_filters.CharFilter(field_name="reservation_id", help_text="Reservation id.")
    event = django_filters.ChoiceFilter(choices=Photo.Event.choices, help_text="Event the photo was taken at.")
    status = django_filters.ChoiceFilter(choices=Photo.Status.choices, help_text="Classification status.")
    label = django_filters.CharFilter(method="filter_label", help_text="Label code in the top-2 of the newest prediction.")
    training_label = django_filters.CharFilter(method="filter_training_label", help_text="Label code in the current training label.")
    ood = django_filters.BooleanFilter(method="filter_ood", help_text="Whether the newest prediction is out of distribution.")

    class Meta:
        model = Photo
        fields = ["day", "car", "reservation", "event", "status", "label", "training_label", "ood"]

    def filter_day(self, queryset, name, value):
        return filter_on_day(queryset, "uploaded_at", value)

    def filter_label(self, queryset, name, value):
        matching = Prediction.objects.filter(label_in_top2(value)).values("id")
        return queryset.alias(newest_prediction_id=newest_prediction_ids()).filter(newest_prediction_id__in=matching)

    def filter_training_label(self, queryset, name, value):
        current = TrainingLabel.objects.current().filter(labels__code=value).values("photo_id")
        return queryset.filter(id__in=current)

    def filter_ood(self, queryset, name, value):
        matching = Prediction.objects.filter(is_ood=value).values("id")
        return queryset.alias(newest_prediction_id=newest_prediction_ids()).filter(newest_prediction_id__in=matching)


class PredictionFilter(django_filters.FilterSet):
    day = django_filters.DateFilter(method="filter_day", validators=[validate_day], help_text="Photo uploaded on this day (YYYY-MM-DD, local time zone).")
    photo = django_filters.NumberFilter(field_name="photo_id", help_text="Photo id.")
    car = django_filters.CharFilter(field_name="photo__car__plate", help_text="Number plate of the photo's car.")
    label = django_filters.CharFilter(method="filter_label", help_text="Label code in the top-2.")
    ood = django_filters.BooleanFilter(field_name="is_ood", help_text="Out of distribution.")
    model_version = django_filters.CharFilter(field_name="model_version__name", help_text="Name of the model version.")
    min_probability = django_filters.NumberFilter(
        method="filter_min_probability",
        min_value=0,
        max_value=1,
        help_text="Minimum probability of `label` when given, else of the top-1 label (0 to 1).",
    )

    class Meta:
        model = Prediction
        fields = ["day", "photo", "car", "label", "ood", "model_version", "min_probability"]

    def filter_day(self, queryset, name, value):
        return filter_on_day(queryset, "photo__uploaded_at", value)

    def filter_label(self, queryset, name, value):
        return queryset.filter(label_in_top2(value))

    def filter_min_probability(self, queryset, name, value):
        code = self.form.cleaned_data.get("label")
        if not code:
            return queryset.filter(top1_probability__gte=value)
        return queryset.filter(
            Q(top1_label__code=code, top1_probability__gte=value) | Q(top2_label__code=code, top2_probability__gte=value)
        )


class WorkOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WorkOrder.Status.choices, help_text="Order status.")
    kind = django_filters.ChoiceFilter(choices=WorkOrder.Kind.choices, help_text="Wash or repair.")
    car = django_filters.CharFilter(field_name="car__plate", help_text="Number plate of the car.")
    zone = django_filters.CharFilter(field_name="car__zone", help_text="Zone of the car.")
    day = django_filters.DateFilter(method="filter_day", validators=[validate_day], help_text="Created on this day (YYYY-MM-DD, local time zone).")

    class Meta:
        model = WorkOrder
        fields = ["status", "kind", "car", "zone", "day"]

    def filter_day(self, queryset, name, value):
        return filter_on_day(queryset, "created_at", value)


class LabelFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=Label.Action.choices, help_text="Action the label calls for.")
    is_active = django_filters.BooleanFilter(help_text="Whether the label is in use.")

    class Meta:
        model = Label
        fields = ["action", "is_active"]


class ModelVersionFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(help_text="Whether the version is the active one.")

    class Meta:
        model = ModelVersion
        fields = ["is_active"]


class InferenceRunFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(field_name="target_date", validators=[validate_day], help_text="Day the run classified (YYYY-MM-DD).")
    status = django_filters.ChoiceFilter(choices=InferenceRun.Status.choices, help_text="Run status.")
    model_version = django_filters.CharFilter(field_name="model_version__name", help_text="Name of the model version.")

    class Meta:
        model = InferenceRun
        fields = ["date", "status", "model_version"]
