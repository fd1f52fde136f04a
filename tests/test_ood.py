"""OOD scores and threshold calibration on small hand-computed cases."""
import numpy as np
import pytest

from inference import ood


def test_max_logit_energy_and_msp_on_known_values():
    logits = np.array([[2.0, 0.0], [0.0, 0.0]])

    assert ood.max_logit(logits).tolist() == [2.0, 0.0]
    assert ood.max_softmax_probability(logits) == pytest.approx([np.exp(2) / (np.exp(2) + 1), 0.5])
    assert ood.energy(logits) == pytest.approx([np.log(np.exp(2) + 1), np.log(2)])


def test_threshold_keeps_requested_share_of_in_distribution_photos():
    scores = np.arange(100, dtype=float)

    threshold = ood.calibrate_threshold(scores, keep_rate=0.95)

    # At least the requested share is kept, and no more than one photo beyond it.
    assert 0.95 <= (scores >= threshold).mean() <= 0.96


def test_threshold_without_photos_is_an_error():
    with pytest.raises(ValueError, match="in-distribution"):
        ood.calibrate_threshold([])


def test_top2_orders_labels_by_probability():
    rows = ood.top2(np.array([[0.1, 3.0, 2.0]]))

    first, p1, second, p2, peak = rows[0]
    assert (first, second) == (1, 2)
    assert p1 > p2 > 0
    assert peak == 3.0
