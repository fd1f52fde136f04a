"""Label scheme look-ups and the training labels that datasets and people give photos."""
import re

from django.db import transaction
from django.utils import timezone

from audit.services import record

from inspection.models import Label, TrainingLabel


class UnknownLabel(ValueError):
    pass


def normalize_label_name(name):
    """Turn a folder or label name into a comparable key: `1_Cup-holder` -> `CUP_HOLDER`."""
    name = re.sub(r"^\d+[_\- ]+", "", name.strip())
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


def label_lookup():
    """Map every normalized code and alias of the active labels to its label."""
    lookup = {}
    for label in Label.objects.active():
        lookup[normalize_label_name(label.code)] = label
        for alias in label.aliases:
            lookup[normalize_label_name(alias)] = label
    return lookup


def resolve_label(name, lookup=None):
    lookup = label_lookup() if lookup is None else lookup
    label = lookup.get(normalize_label_name(name))
    if label is None:
        known = ", ".join(Label.objects.active().values_list("code", flat=True))
        raise UnknownLabel(f"Folder {name!r} matches no label; known labels: {known}.")
    return label


def current_training_label(photo):
    return TrainingLabel.objects.current().filter(photo=photo).prefetch_related("labels").first()


def add_training_label(photo, labels, source, author=None, is_irrelevant=False):
    """Record what `photo` shows; it supersedes every earlier label of the photo."""
    with transaction.atomic():
        training_label = TrainingLabel.objects.create(
            photo=photo, source=source, author=author, is_irrelevant=is_irrelevant, created_at=timezone.now()
        )
        training_label.labels.set(labels)
    return training_label


def withdraw_training_label(training_label):
    """Take a label back: the photo's previous label counts again and training skips this one."""
    training_label.withdrawn_at = timezone.now()
    training_label.save(update_fields=["withdrawn_at"])


def next_label_position():
    """Return the position after the last label, so a new label leaves the number keys inspectors know in place."""
    last = Label.objects.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


LABEL_FIELDS = ("code", "name_en", "name_ko", "action", "aliases", "position", "is_active")


def label_snapshot(label):
    return {field: getattr(label, field) for field in LABEL_FIELDS}


def save_label_change(user, label, save):
    """Run `save` (which saves a new or changed label and returns it) and audit the change.

    `label` is the label before the change, or None for a new one; its fields are read
    before `save` runs, so pass it unchanged.
    """
    before = label_snapshot(label) if label is not None else None
    with transaction.atomic():
        saved = save()
        record(user, "label.update" if before else "label.create", saved, before=before, after=label_snapshot(saved))
    return saved
