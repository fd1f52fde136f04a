"""Audit entries as people read them: field names and coded values in the reader's language.

The services record plain field names and codes (`status: open`), so an entry does not depend
on the language of the user who made the change. This module translates them on display.
"""
import json

from django.apps import apps
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from inspection.models import Label, Review, TrainingLabel, WorkOrder

FIELD_NAMES = {
    "training_label": _("training label"),
    "labels": _("labels"),
    "is_irrelevant": _("irrelevant"),
    "source": _("source"),
    "revision": _("revision"),
    "review": _("review"),
    "action": _("action"),
    "car": _("car"),
    "kind": _("kind"),
    "status": _("status"),
    "photos": _("photos"),
    "active_version": _("active version"),
    "ood_threshold": _("OOD threshold (maximum logit)"),
    "code": _("code"),
    "name_en": _("English name"),
    "name_ko": _("Korean name"),
    "aliases": _("aliases"),
    "position": _("position"),
    "is_active": _("active"),
}

# Coded values by field. "action" is a review's action in photo entries and a label's work in label entries.
CHOICES = {
    "source": dict(TrainingLabel.Source.choices),
    "kind": dict(WorkOrder.Kind.choices),
    "status": dict(WorkOrder.Status.choices),
}
ACTION_CHOICES = {"photo": dict(Review.Action.choices), "label": dict(Label.Action.choices)}


def target_name(entry):
    """Name the entry's target by its model and id, in the reader's language.

    The entry also stores the target as text, but that text was written once, in the language
    of the user who made the change, so the page shows it only as a tooltip.
    """
    try:
        model_name = apps.get_model(entry.target_type)._meta.verbose_name
    except (LookupError, ValueError):
        model_name = entry.target_type
    return format_lazy("{} #{}", capfirst(model_name), entry.target_id)


def entry_changes(entry, label_names):
    """Return (field name, value before, value after) for each field in the entry's before or after.

    `label_names` maps label codes to display names; a code missing there shows as itself.
    """
    before, after = entry.before or {}, entry.after or {}
    fields = list(before) + [field for field in after if field not in before]
    choices = dict(CHOICES, action=ACTION_CHOICES.get(entry.action.partition(".")[0], {}))
    rows = []
    for field in fields:
        show = _value_formatter(field, choices.get(field, {}), label_names)
        rows.append((FIELD_NAMES.get(field, field), show(before[field]) if field in before else "", show(after[field]) if field in after else ""))
    return rows


def _value_formatter(field, choices, label_names):
    def show(value):
        if value is None:
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, list):
            if field == "labels":
                value = [label_names.get(code, code) if isinstance(code, str) else code for code in value]
            return ", ".join(show(item) for item in value) or "—"
        if isinstance(value, str):
            return choices.get(value, value)
        return json.dumps(value, ensure_ascii=False)

    return show
