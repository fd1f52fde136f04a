import pytest
from django.core.exceptions import PermissionDenied

from inspection.models import Review, TrainingLabel
from inspection.roles import INSPECTOR
from inspection.services.labels import current_training_label
from inspection.services.reviews import InvalidReview, StaleRevision, submit_review, undo_review
from tests.inspection_data import label, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector():
    return user_in_role("mina", INSPECTOR)


@pytest.fixture
def photo():
    photo = make_photo()
    predict(photo, make_version(), top1="DIRT", p1=0.7, top2="DEFECT", p2=0.2)
    return photo


def label_codes(training_label):
    return sorted(training_label.labels.values_list("code", flat=True))


def test_confirm_records_both_actionable_labels(photo, inspector):
    review = submit_review(photo, inspector, Review.Action.CONFIRM)

    assert label_codes(review.training_label) == ["DEFECT", "DIRT"]
    assert review.training_label.source == TrainingLabel.Source.INSPECTOR
    assert review.training_label.author == inspector


def test_confirm_ignores_second_guess_without_action(inspector):
    photo = make_photo()
    predict(photo, make_version(), top1="DIRT", p1=0.7, top2="SEAT", p2=0.2)

    review = submit_review(photo, inspector, Review.Action.CONFIRM)

    assert label_codes(review.training_label) == ["DIRT"]


def test_correct_needs_a_label(photo, inspector):
    with pytest.raises(InvalidReview):
        submit_review(photo, inspector, Review.Action.CORRECT, labels=[])

    assert not Review.objects.exists()
    assert not TrainingLabel.objects.exists()


def test_correct_stores_chosen_labels(photo, inspector):
    review = submit_review(photo, inspector, Review.Action.CORRECT, labels=[label("NORMAL")])

    assert label_codes(current_training_label(photo)) == ["NORMAL"]
    assert review.action == Review.Action.CORRECT


def test_irrelevant_keeps_photo_out_of_training(photo, inspector):
    submit_review(photo, inspector, Review.Action.IRRELEVANT)

    current = current_training_label(photo)
    assert current.is_irrelevant
    assert label_codes(current) == []


def test_review_increments_revision(photo, inspector):
    submit_review(photo, inspector, Review.Action.CONFIRM, expected_revision=0)

    photo.refresh_from_db()
    assert photo.revision == 1


def test_stale_revision_is_rejected(photo, inspector):
    submit_review(photo, inspector, Review.Action.CONFIRM, expected_revision=0)

    with pytest.raises(StaleRevision):
        submit_review(photo, inspector, Review.Action.IRRELEVANT, expected_revision=0)
    assert Review.objects.count() == 1


def test_later_review_supersedes_earlier(photo, inspector):
    submit_review(photo, inspector, Review.Action.CONFIRM)
    submit_review(photo, inspector, Review.Action.CORRECT, labels=[label("NORMAL")])

    assert label_codes(current_training_label(photo)) == ["NORMAL"]


def test_undo_withdraws_training_label(photo, inspector):
    first = submit_review(photo, inspector, Review.Action.CONFIRM)
    second = submit_review(photo, inspector, Review.Action.IRRELEVANT)

    undo_review(second, inspector)

    second.training_label.refresh_from_db()
    assert second.training_label.withdrawn_at is not None
    assert current_training_label(photo) == first.training_label
    assert not TrainingLabel.objects.current().filter(pk=second.training_label.pk).exists()


def test_undo_by_another_inspector_is_refused(photo, inspector):
    review = submit_review(photo, inspector, Review.Action.CONFIRM)
    other = user_in_role("jun", INSPECTOR)

    with pytest.raises(PermissionDenied):
        undo_review(review, other)
    review.refresh_from_db()
    assert review.withdrawn_at is None


def test_undo_twice_is_refused(photo, inspector):
    review = submit_review(photo, inspector, Review.Action.CONFIRM)
    undo_review(review, inspector)

    with pytest.raises(InvalidReview):
        undo_review(review, inspector)
