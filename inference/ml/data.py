"""Training examples from the current training labels, and a stratified split of them."""
import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from inspection.models import Label, TrainingLabel


@dataclass(frozen=True)
class Example:
    photo_id: int
    sha256: str
    file_name: str
    label_codes: tuple

    def target(self, label_codes):
        """Return a probability vector spreading the mass evenly over this photo's labels."""
        vector = np.zeros(len(label_codes), dtype=np.float32)
        for code in self.label_codes:
            vector[label_codes.index(code)] = 1.0 / len(self.label_codes)
        return vector

    @property
    def primary_label(self):
        return self.label_codes[0]


def training_examples():
    """Return the examples of every photo whose newest, not withdrawn label names labels.

    Photos marked irrelevant, and labels that are no longer active, are left out.
    """
    active = {label.code: label.position for label in Label.objects.active()}
    examples = []
    current = TrainingLabel.objects.current().filter(is_irrelevant=False).select_related("photo").prefetch_related("labels")
    for training_label in current.order_by("photo_id"):
        codes = sorted((label.code for label in training_label.labels.all() if label.code in active), key=active.get)
        if codes:
            photo = training_label.photo
            examples.append(Example(photo.id, photo.sha256, photo.file.name, tuple(codes)))
    return examples


def scheme_of(examples):
    """Return the label codes that have at least one example, in the scheme's order."""
    present = {code for example in examples for code in example.label_codes}
    return [label.code for label in Label.objects.active() if label.code in present]


def stratified_split(examples, validation_fraction=0.2, seed=0):
    """Split per primary label, holding out a share of every label that has two or more photos.

    A label with a single photo stays in training: a model cannot learn a label it never saw.
    A `validation_fraction` of 0 holds out nothing, for a model trained on every photo.
    """
    by_label = defaultdict(list)
    for example in examples:
        by_label[example.primary_label].append(example)
    rng = random.Random(seed)
    train, validation = [], []
    for code in sorted(by_label):
        group = sorted(by_label[code], key=lambda example: example.photo_id)
        rng.shuffle(group)
        held_out = 0 if len(group) < 2 or validation_fraction <= 0 else max(1, round(len(group) * validation_fraction))
        validation.extend(group[:held_out])
        train.extend(group[held_out:])
    return train, validation
