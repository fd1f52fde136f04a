"""Out-of-distribution scores computed from a classifier's logits, and threshold calibration.

Every score is "higher means more in-distribution", so one threshold rule and one AUROC
convention serve all of them. Plain numpy: the web process and evaluation use it too.
"""
import numpy as np

DEFAULT_KEEP_RATE = 0.95


def max_logit(logits):
    return np.asarray(logits, dtype=np.float64).max(axis=1)


def softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def max_softmax_probability(logits):
    return softmax(logits).max(axis=1)


def energy(logits):
    """Negative free energy, log-sum-exp of the logits (Liu et al., 2020)."""
    logits = np.asarray(logits, dtype=np.float64)
    peak = logits.max(axis=1)
    return peak + np.log(np.exp(logits - peak[:, None]).sum(axis=1))


SCORES = {"max_logit": max_logit, "msp": max_softmax_probability, "energy": energy}


def calibrate_threshold(in_distribution_scores, keep_rate=DEFAULT_KEEP_RATE):
    """Return the score under which a photo is OOD, keeping `keep_rate` of in-distribution photos."""
    scores = np.asarray(in_distribution_scores, dtype=np.float64)
    if scores.size == 0:
        raise ValueError("Cannot calibrate an OOD threshold without in-distribution photos.")
    return float(np.quantile(scores, 1.0 - keep_rate, method="lower"))


def top2(logits):
    """Return (top-1 index, top-1 probability, top-2 index, top-2 probability, max logit) per row."""
    probabilities = softmax(logits)
    order = np.argsort(-probabilities, axis=1)
    rows = np.arange(len(probabilities))
    return [
        (int(first), float(probabilities[row, first]), int(second), float(probabilities[row, second]), float(peak))
        for row, first, second, peak in zip(rows, order[:, 0], order[:, 1], max_logit(logits))
    ]
