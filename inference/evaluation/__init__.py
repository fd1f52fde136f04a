"""Evaluation of model versions against the three research questions of the concatenated classifier.

RQ1 task accuracy, RQ2 out-of-distribution detection, RQ3 multi-label photos. Split by
concern: `datasets` reads test, OOD and multi-label folders, `systems` contains the
concatenated, task-centric and multi-task heads, `metrics` computes figures with
scikit-learn, `report` assembles and renders them, `crossval` builds the folds, `cost`
measures inference time, `figures` draws the PNGs, and `service` runs an evaluation.
Everything here imports torch, so only management commands and workers import this package.
"""
