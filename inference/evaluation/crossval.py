"""K-fold cross-validation of the training recipe: on cached backbone features, or fine-tuning every fold."""
import logging
import warnings

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold

from inference import ood
from inference.ml.data import stratified_split
from inference.ml.network import build_classifier
from inference.ml.training import eval_logits, finetune, install_head

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


def _rows_of(subset, examples):
    """Return the positions in `examples` of the examples in `subset` (the same objects, as a split returns them)."""
    position = {id(example): index for index, example in enumerate(examples)}
    return [position[id(example)] for example in subset]


def fold_threshold(train_features, train_examples, label_codes, config, fit):
    """Calibrate a fold's OOD threshold as training does: on a held-out part of the fold's training photos.

    `fit(features, examples)` returns a concatenated system; its maximum logits on the
    held-out photos set the threshold that keeps `config.ood_keep_rate` of them.
    """
    inner_train, inner_validation = stratified_split(train_examples, config.validation_fraction, config.seed)
    if not inner_validation:
        return None
    inner_rows, validation_rows = _rows_of(inner_train, train_examples), _rows_of(inner_validation, train_examples)
    system = fit(train_features[inner_rows], inner_train)
    return ood.calibrate_threshold(system.gate_scores(train_features[validation_rows, 0]), config.ood_keep_rate)


def finetuned_fold(train_features, train_examples, label_codes, config):
    """Fine-tune a fold's network on all its training photos; return (network, OOD threshold or None).

    The threshold is calibrated as training calibrates it, and as `fold_threshold` does for
    the head recipe: a second network is fine-tuned on the inner training part, and the
    maximum logits of the inner validation photos set it. So each fold costs two fine-tunings.
    """
    network = _finetuned_network(train_features, train_examples, list(range(len(train_examples))), label_codes, config)
    inner_train, inner_validation = stratified_split(train_examples, config.validation_fraction, config.seed)
    if not inner_validation:
        return network, None
    inner_network = _finetuned_network(train_features, train_examples, _rows_of(inner_train, train_examples), label_codes, config)
    threshold = ood.calibrate_threshold(ood.max_logit(eval_logits(inner_network, inner_validation)), config.ood_keep_rate)
    return network, threshold


def _finetuned_network(features, examples, rows, label_codes, config):
    """Fit the head on the cached features of `examples[rows]`, then fine-tune every layer on those photos."""
    chosen = [examples[row] for row in rows]
    torch.manual_seed(config.seed)
    network = build_classifier(len(label_codes)).eval()
    install_head(network, features[rows], chosen, label_codes, config)
    return finetune(network, chosen, label_codes, config)
