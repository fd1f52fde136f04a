"""Evaluation figures on small cases worked out by hand."""
import numpy as np
import pytest
import torch

from inference.evaluation.metrics import (
    auroc,
    false_rejection_rate,
    mean_and_std,
    one_class_auroc,
    scheme_metrics,
    task_metrics,
    top2_hit_rate,
)
from inference.evaluation.report import aggregate
from inference.evaluation.systems import MultiTaskSystem


def test_task_metrics_count_only_the_tasks_labels():
    truth = ["NORMAL", "NORMAL", "DEFECT", "DEFECT", "DIRT"]
    predicted = ["NORMAL", "DEFECT", "DEFECT", "DIRT", "DIRT"]

    figures = task_metrics(truth, predicted, "DEFECT", "NORMAL")

    # Four photos count; right: NORMAL->NORMAL and DEFECT->DEFECT. Predicted positive 2,
    # true positive 1, actual positive 2: precision 1/2, recall 1/2, F1 1/2.
    assert figures["photos"] == 4
    assert figures["accuracy"] == 0.5
    assert figures["f1"] == 0.5


def test_task_metrics_without_task_photos_are_null():
    figures = task_metrics(["SEAT"], ["SEAT"], "DEFECT", "NORMAL")

    assert figures == {"accuracy": None, "f1": None, "photos": 0}


def test_auroc_counts_ordered_pairs():
    # Pairs (positive, negative): 0.9 beats 0.1 and 0.5; 0.4 beats 0.1 only: 3 of 4.
    assert auroc([0.9, 0.4], [0.1, 0.5]) == 0.75


def test_auroc_counts_ties_as_half():
    assert auroc([0.5], [0.5]) == 0.5


def test_auroc_with_one_empty_side_is_null():
    assert auroc([], [0.3]) is None
    assert auroc([0.3], []) is None


def test_one_class_auroc_puts_the_label_against_all_others():
    truth = ["DIRT", "NORMAL", "SEAT", "DIRT"]
    scores = [0.8, 0.9, 0.1, 0.7]

    # DIRT scores 0.8 and 0.7 against 0.9 and 0.1: each beats 0.1 only, 2 of 4 pairs.
    assert one_class_auroc(truth, scores, "DIRT") == 0.5


def test_false_rejection_rate_counts_scores_under_threshold():
    assert false_rejection_rate([1.0, 2.0, 3.0, 4.0], threshold=2.5) == 0.5
    assert false_rejection_rate([2.5], threshold=2.5) == 0.0


def test_top2_hit_needs_every_true_label():
    predicted = [{"DEFECT", "DIRT"}, {"DEFECT", "NORMAL"}, {"DIRT", "DEFECT"}]
    truth = [{"DEFECT", "DIRT"}, {"DEFECT", "DIRT"}, {"DIRT"}]

    assert top2_hit_rate(predicted, truth) == pytest.approx(2 / 3, abs=1e-4)


def test_scheme_accuracy_counts_unknown_labels_as_errors():
    figures = scheme_metrics(["NORMAL", "DEFECT", "CAR_INTERIOR"], ["NORMAL", "DIRT", "NORMAL"], ["NORMAL", "DEFECT", "DIRT"])

    assert figures["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["confusion_matrix"]["matrix"] == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    assert figures["per_label"]["DEFECT"]["recall"] == 0.0


def test_macro_f1_skips_labels_absent_from_test_and_predictions():
    figures = scheme_metrics(["NORMAL", "DEFECT"], ["NORMAL", "NORMAL"], ["NORMAL", "DEFECT", "DIRT", "SEAT"])

    # NORMAL: precision 1/2, recall 1, F1 2/3; DEFECT: F1 0; DIRT and SEAT do not count.
    assert figures["macro_f1"] == pytest.approx(1 / 3, abs=1e-4)


def test_mean_and_std_skip_missing_values():
    assert mean_and_std([0.5, None, 1.0]) == (0.75, 0.25)
    assert mean_and_std([None]) == (None, None)


def test_aggregate_keeps_the_fold_report_keys():
    folds = [
        {"accuracy": 0.5, "tasks": {"defect": {"accuracy": 1.0, "f1": None, "photos": 2}}},
        {"accuracy": 1.0, "tasks": {"defect": {"accuracy": 0.5, "f1": 1.0, "photos": 3}}},
    ]

    mean, std = aggregate(folds)

    assert mean["accuracy"] == 0.75
    assert std["accuracy"] == 0.25
    assert mean["tasks"]["defect"] == {"accuracy": 0.75, "f1": 1.0, "photos": 5}
    assert std["tasks"]["defect"]["f1"] == 0.0


def test_multi_task_kl_is_zero_for_uniform_outputs():
    head = torch.nn.Linear(4, 5)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    system = MultiTaskSystem(("DEFECT", "DIRT", "BUBBLE_WASH"), ["SEAT", "GLOVEBOX"], head)

    divergence = system.kl_from_uniform(np.ones((2, 4), dtype=np.float32))

    assert divergence == pytest.approx([0.0, 0.0], abs=1e-6)


def test_multi_task_kl_grows_with_confident_outputs():
    head = torch.nn.Linear(1, 3)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[4.0], [0.0], [0.0]]))
        head.bias.zero_()
    system = MultiTaskSystem(("DEFECT",), ["SEAT", "GLOVEBOX"], head)

    # Defect head: sigmoid(4) = 0.982; KL(0.5 || p) = 0.5 ln(0.5/0.982) + 0.5 ln(0.5/0.018).
    p = 1 / (1 + np.exp(-4.0))
    expected = 0.5 * np.log(0.5 / p) + 0.5 * np.log(0.5 / (1 - p))
    divergence = system.kl_from_uniform(np.array([[1.0]], dtype=np.float32))

    assert divergence[0] == pytest.approx(expected, rel=1e-5)
