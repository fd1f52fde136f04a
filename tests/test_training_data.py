"""Which training labels reach the model, and how they are split."""
import pytest

from inference.ml.data import Example, scheme_of, stratified_split, training_examples
from inspection.models import Label, TrainingLabel
from inspection.services.labels import add_training_label, withdraw_training_label
from tests.factories import make_photo

pytestmark = pytest.mark.django_db


def labels(*codes):
    return list(Label.objects.filter(code__in=codes))


def test_newest_label_of_a_photo_counts():
    photo = make_photo(seed=1)
    add_training_label(photo, labels("NORMAL"), TrainingLabel.Source.DATASET)
    add_training_label(photo, labels("DIRT", "DEFECT"), TrainingLabel.Source.INSPECTOR)

    (example,) = training_examples()

    assert example.label_codes == ("DEFECT", "DIRT")


def test_withdrawn_label_is_never_trained_on():
    photo = make_photo(seed=1)
    add_training_label(photo, labels("NORMAL"), TrainingLabel.Source.DATASET)
    withdrawn = add_training_label(photo, labels("DIRT"), TrainingLabel.Source.INSPECTOR)
    withdraw_training_label(withdrawn)

    (example,) = training_examples()

    assert example.label_codes == ("NORMAL",)


def test_irrelevant_photo_is_left_out_of_training():
    photo = make_photo(seed=1)
    add_training_label(photo, labels("NORMAL"), TrainingLabel.Source.DATASET)
    add_training_label(photo, [], TrainingLabel.Source.INSPECTOR, is_irrelevant=True)

    assert training_examples() == []


def test_two_label_photo_splits_its_target_evenly():
    example = Example(1, "0" * 64, "x.jpg", ("DEFECT", "DIRT"))

    target = example.target(["NORMAL", "DEFECT", "DIRT"])

    assert target.tolist() == [0.0, 0.5, 0.5]


def test_split_keeps_single_photo_labels_in_training():
    examples = [Example(i, f"{i:064d}", f"{i}.jpg", ("NORMAL",)) for i in range(10)]
    examples.append(Example(99, "9" * 64, "cup.jpg", ("CUP_HOLDER",)))

    train, validation = stratified_split(examples, validation_fraction=0.2, seed=0)

    assert len(validation) == 2
    assert all(example.primary_label == "NORMAL" for example in validation)
    assert any(example.primary_label == "CUP_HOLDER" for example in train)
    assert not {e.photo_id for e in train} & {e.photo_id for e in validation}


def test_scheme_lists_only_labels_with_photos_in_scheme_order():
    examples = [Example(1, "1" * 64, "a", ("DIRT",)), Example(2, "2" * 64, "b", ("NORMAL",))]

    assert scheme_of(examples) == ["NORMAL", "DIRT"]
