"""K-fold cross-validation of the training recipe, on cached backbone features."""
import logging
import warnings

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from inference import ood
from inference.ml.data import stratified_split

logger = logging.getLogger(__name__)


class CrossValidationError(ValueError):
    pass


def fold_indices(primary_labels, folds, seed=0):
    """Return [(training indices, test indices)] of `folds` folds, stratified by label where possible.

    StratifiedKFold spreads every label over the folds; a label with fewer photos than
    folds lands in only some test folds. When no label has `folds` photos, stratifying is
    impossible and plain shuffled folds are used.
    """
    photos = len(primary_labels)
    if folds < 2 or folds > photos:
        raise CrossValidationError(f"Cannot cross-validate {photos} photos in {folds} folds; choose between 2 and {photos}.")
    labels = np.asarray(primary_labels)
    _, counts = np.unique(labels, return_counts=True)
    if counts.max() >= folds:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    else:
        logger.warning("no label has %d photos; folds are not stratified", folds)
        splitter = KFold(folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # The warning that the least populated label has fewer photos than folds is expected here.
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros(photos), labels))


def fold_threshold(train_features, train_examples, label_codes, config, fit):
    """Calibrate a fold's OOD threshold as training does: on a held-out part of the fold's training photos.

    `fit(features, examples)` returns a concatenated system; its maximum logits on the
    held-out photos set the threshold that keeps `config.ood_keep_rate` of them.
    """
    inner_train, inner_validation = stratified_split(train_examples, config.validation_fraction, config.seed)
    if not inner_validation:
        return None
    position = {id(example): index for index, example in enumerate(train_examples)}
    inner_rows = [position[id(example)] for example in inner_train]
    validation_rows = [position[id(example)] for example in inner_validation]
    system = fit(train_features[inner_rows], inner_train)
    return ood.calibrate_threshold(system.gate_scores(train_features[validation_rows, 0]), config.ood_keep_rate)
