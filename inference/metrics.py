"""Classification metrics from scikit-learn, as JSON-ready records."""
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def classification_metrics(truth, predicted, label_codes):
    """Return accuracy, macro F1, per-label precision/recall/F1/support and the confusion matrix."""
    indices = list(range(len(label_codes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=indices, zero_division=0
    )
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=indices, average="macro", zero_division=0)), 4),
        "per_label": {
            code: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, code in enumerate(label_codes)
        },
        "confusion_matrix": {
            "labels": list(label_codes),
            "matrix": confusion_matrix(truth, predicted, labels=indices).tolist(),
        },
    }
