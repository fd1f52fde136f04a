"""ROC curves and the confusion matrix as PNG files in media storage, beside the model version."""
import io
import logging

import matplotlib

matplotlib.use("Agg")  # Workers and commands have no display.
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402

from inference.evaluation.metrics import roc_points  # noqa: E402

logger = logging.getLogger(__name__)


def save_png(figure, path):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    if default_storage.exists(path):
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(buffer.getvalue()))


def roc_figure(curves, title, positive_name, negative_name):
    """Plot one ROC curve per (name -> (positive scores, negative scores)) entry."""
    figure, axes = plt.subplots(figsize=(5, 5))
    for name, (positive, negative) in curves.items():
        false_positive, true_positive = roc_points(positive, negative)
        axes.plot(false_positive, true_positive, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(xlabel=f"{negative_name} (false positive rate)", ylabel=f"{positive_name} (true positive rate)", title=title, xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower right", fontsize="small")
    return figure


def confusion_figure(confusion, title):
    labels, matrix = confusion["labels"], np.asarray(confusion["matrix"])
    figure, axes = plt.subplots(figsize=(1.2 + 0.55 * len(labels), 1.0 + 0.5 * len(labels)))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize="small")
    axes.set_yticks(range(len(labels)), labels, fontsize="small")
    axes.set(xlabel="predicted label", ylabel="true label", title=title)
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            axes.text(column, row, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    return figure


def save_figures(version_name, confusion, one_class_curves, ood_curves):
    """Write the report's pictures under `reports/<version>/` and return {figure name: storage path}."""
    folder = f"reports/{version_name}"
    figures = {}
    if confusion and confusion.get("labels"):
        figures["confusion_matrix"] = save_png(confusion_figure(confusion, "Confusion matrix"), f"{folder}/confusion_matrix.png")
    if one_class_curves:
        figures["one_class_roc"] = save_png(roc_figure(one_class_curves, "One-class recognition", "photos of the label recognised", "other photos taken for it"), f"{folder}/one_class_roc.png")
    if ood_curves:
        figures["ood_roc"] = save_png(roc_figure(ood_curves, "Irrelevant-photo rejection (maximum logit)", "car photos kept", "irrelevant photos kept"), f"{folder}/ood_roc.png")
    logger.info("saved %d evaluation figures of %s under %s", len(figures), version_name, folder)
    return figures
