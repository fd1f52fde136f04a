"""Forms of the screens. An invalid filter field falls back to its default and shows its error beside it."""
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inference.services.days import validate_day
from inspection.models import Label, Photo, WorkOrder
from inspection.services.labels import next_label_position
from inspection.services.queue import QueueFilters
from inspection.services.relabel import RelabelFilters, relabel_photos


class QueueFilterForm(forms.Form):
    LABEL_CHOICES = [
        ("", _("Dirt or defect")),
        ("DIRT", _("Dirt")),
        ("DEFECT", _("Defect")),
        ("BOTH", _("Dirt and defect")),
    ]
    REVIEWED_CHOICES = [("", _("All")), ("no", _("Not reviewed")), ("yes", _("Reviewed"))]

    date = forms.DateField(label=_("Day"), required=False, validators=[validate_day], widget=forms.DateInput(attrs={"type": "date"}))
    label = forms.ChoiceField(label=_("Label"), choices=LABEL_CHOICES, required=False)
    reviewed = forms.ChoiceField(label=_("Review"), choices=REVIEWED_CHOICES, required=False)
    min_probability = forms.FloatField(
        label=_("Minimum probability"), required=False, min_value=0, max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )

    def queue_filters(self):
        """Return (QueueFilters, day); an invalid field falls back to its default and shows its error."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        day = data.get("date") or timezone.localdate()
        filters = QueueFilters(
            label=data.get("label") or "",
            reviewed=data.get("reviewed") or "",
            min_probability=data.get("min_probability") or 0.0,
        )
        return filters, day


class OrderFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All"))] + list(WorkOrder.Kind.choices), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All"))] + list(WorkOrder.Status.choices), required=False)
    zone = forms.CharField(label=_("Zone"), required=False, max_length=100)
    date_from = forms.DateField(label=_("From"), required=False, validators=[validate_day], widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, validators=[validate_day], widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filter(self, orders):
        """Apply the valid fields to `orders`; dates are calendar days in the configured time zone."""
        if not self.is_bound:
            return orders
        self.is_valid()
        data = self.cleaned_data
        if data.get("kind"):
            orders = orders.filter(kind=data["kind"])
        if data.get("status"):
            orders = orders.filter(status=data["status"])
        if data.get("zone"):
            orders = orders.filter(car__zone__icontains=data["zone"])
        if data.get("date_from"):
            orders = orders.filter(created_at__date__gte=data["date_from"])
        if data.get("date_to"):
            orders = orders.filter(created_at__date__lte=data["date_to"])
        return orders


class RelabelFilterForm(forms.Form):
    current_label = forms.ChoiceField(label=_("Current label"), required=False)
    predicted_label = forms.ChoiceField(label=_("Predicted label"), required=False)
    disagreements_only = forms.BooleanField(label=_("Only where model and label disagree"), required=False)
    min_confidence = forms.FloatField(
        label=_("Confidence from"), required=False, min_value=0, max_value=1, widget=forms.NumberInput(attrs={"step": "0.05"})
    )
    max_confidence = forms.FloatField(
        label=_("Confidence to"), required=False, min_value=0, max_value=1, widget=forms.NumberInput(attrs={"step": "0.05"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Any"))] + [(label.code, label.display_name) for label in Label.objects.all()]
        self.fields["current_label"].choices = choices
        self.fields["predicted_label"].choices = choices

    def relabel_filters(self):
        if not self.is_bound:
            return RelabelFilters()
        self.is_valid()
        data = self.cleaned_data
        return RelabelFilters(
            current_label=data.get("current_label") or "",
            predicted_label=data.get("predicted_label") or "",
            disagreements_only=bool(data.get("disagreements_only")),
            min_confidence=data.get("min_confidence"),
            max_confidence=data.get("max_confidence"),
        )


class RelabelForm(forms.Form):
    photos = forms.ModelMultipleChoiceField(
        queryset=Photo.objects.all(),
        error_messages={"required": _("Select at least one photo."), "invalid_choice": _("Photo %(value)s does not exist.")},
    )
    labels = forms.ModelMultipleChoiceField(
        label=_("New labels"), queryset=Label.objects.active(), to_field_name="code", required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_irrelevant = forms.BooleanField(label=_("Irrelevant (not a car)"), required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("labels") and not cleaned.get("is_irrelevant"):
            raise forms.ValidationError(_("Choose at least one label, or mark the photos irrelevant."))
        if cleaned.get("labels") and cleaned.get("is_irrelevant"):
            raise forms.ValidationError(_("An irrelevant photo has no labels; choose one or the other."))
        return cleaned

    def save(self, user):
        return relabel_photos(self.cleaned_data["photos"], self.cleaned_data["labels"], user, is_irrelevant=self.cleaned_data["is_irrelevant"])


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["code", "name_en", "name_ko", "action"]

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper().replace("-", "_")
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", code):
            raise forms.ValidationError(_("Use upper-case letters, digits and underscores, starting with a letter."))
        if Label.objects.filter(code=code).exists():
            raise forms.ValidationError(_("A label with the code %(code)s already exists.") % {"code": code})
        return code

    def save(self, commit=True):
        label = super().save(commit=False)
        label.position = next_label_position()
        if commit:
            label.save()
        return label


class ThresholdForm(forms.Form):
    ood_threshold = forms.FloatField(
        label=_("OOD threshold (maximum logit)"), widget=forms.NumberInput(attrs={"step": "0.01"})
    )


class TrainingForm(forms.Form):
    activate = forms.BooleanField(label=_("Activate the new version when training ends"), required=False)
