"""The evaluation's figures, computed with scikit-learn from labels, predictions and scores.

Every OOD score follows the convention of `inference.ood`: higher means more
in-distribution, so in-distribution photos are the positive class of every AUROC.
"""
import math

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score, roc_curve

from inference.metrics import classification_metrics

DIGITS = 4


def rounded(value):
    return None if value is None else round(float(value), DIGITS)


def task_metrics(truth_codes, predicted_codes, positive, negative):
    """Return accuracy and F1 of a binary task on the photos whose true label is `positive` or `negative`.

    A photo counts as predicted positive only when its predicted label is `positive`, so a
    Defect photo that the concatenated classifier calls Dirt is a missed defect.
    """
    pairs = [(truth, predicted) for truth, predicted in zip(truth_codes, predicted_codes) if truth in (positive, negative)]
    if not pairs:
        return {"accuracy": None, "f1": None, "photos": 0}
    truth = [int(truth == positive) for truth, _ in pairs]
    predicted = [int(predicted == positive) for _, predicted in pairs]
    return {
        "accuracy": rounded(accuracy_score(truth, predicted)),
        "f1": rounded(f1_score(truth, predicted, zero_division=0)),
        "photos": len(pairs),
    }


def auroc(positive_scores, negative_scores):
    """Return the AUROC of telling `positive_scores` from `negative_scores`, or None if one side is empty."""
    positive_scores = np.asarray(positive_scores, dtype=np.float64)
    negative_scores = np.asarray(negative_scores, dtype=np.float64)
    if positive_scores.size == 0 or negative_scores.size == 0:
        return None
    truth = np.concatenate([np.ones(positive_scores.size), np.zeros(negative_scores.size)])
    return rounded(roc_auc_score(truth, np.concatenate([positive_scores, negative_scores])))


def one_class_auroc(truth_codes, label_scores, code):
    """Return the AUROC of recognising photos of `code` among all others by `label_scores`."""
    is_target = np.array([truth == code for truth in truth_codes])
    scores = np.asarray(label_scores, dtype=np.float64)
    return auroc(scores[is_target], scores[~is_target])


def roc_points(positive_scores, negative_scores):
    """Return the (false positive rates, true positive rates) of a ROC curve, for plotting."""
    truth = np.concatenate([np.ones(len(positive_scores)), np.zeros(len(negative_scores))])
    false_positive, true_positive, _ = roc_curve(truth, np.concatenate([positive_scores, negative_scores]))
    return false_positive.tolist(), true_positive.tolist()


def false_rejection_rate(in_distribution_scores, threshold):
    """Return the share of in-distribution photos whose score falls under the OOD threshold."""
    scores = np.asarray(in_distribution_scores, dtype=np.float64)
    if scores.size == 0:
        return None
    return rounded(np.mean(scores < threshold))


def top2_hit_rate(top2_codes, true_code_sets):
    """Return the share of photos whose two predicted labels contain every one of their true labels."""
    if not true_code_sets:
        return None
    hits = [set(truth) <= set(predicted) for predicted, truth in zip(top2_codes, true_code_sets)]
    return rounded(np.mean(hits))


def scheme_metrics(truth_codes, predicted_codes, label_codes):
    """Return accuracy, macro F1, per-label figures and the confusion matrix over the whole scheme.

    Photos whose label the model does not know count as errors, so an external set with an
    unseen label lowers accuracy instead of being silently dropped. Macro F1 averages over
    the labels that occur in the test set or its predictions.
    """
    known = {code: index for index, code in enumerate(label_codes)}
    unknown = len(label_codes)
    truth = [known.get(code, unknown) for code in truth_codes]
    predicted = [known[code] for code in predicted_codes]
    result = classification_metrics(truth, predicted, label_codes)
    result["accuracy"] = rounded(accuracy_score(truth, predicted))
    # Macro F1 over the labels that occur in the test set or its predictions: a label with
    # no photo and no prediction would add an F1 of 0 that tells nothing about the model.
    present = sorted((set(truth) | set(predicted)) - {unknown})
    result["macro_f1"] = rounded(f1_score(truth, predicted, labels=present, average="macro", zero_division=0))
    return result


def mean_and_std(values):
    """Return (mean, population standard deviation) of the values that are not None."""
    present = [value for value in values if value is not None and not math.isnan(value)]
    if not present:
        return None, None
    return rounded(np.mean(present)), rounded(np.std(present))
