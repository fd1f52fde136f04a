"""One system's figures on one test set, their mean and deviation over folds, and the readable table."""
import numpy as np

from inference.evaluation.metrics import (
    auroc,
    false_rejection_rate,
    mean_and_std,
    one_class_auroc,
    rounded,
    scheme_metrics,
    task_metrics,
    top2_hit_rate,
)
from inference.evaluation.systems import NORMAL, TASKS

# The JSON keys every report has, documented in docs/evaluation.md; a key without a value is null.
SCHEME_KEYS = ("accuracy", "macro_f1", "per_label", "confusion_matrix")


def system_report(system, label_codes, test, ood_sets=None, multilabel=None):
    """Return the RQ1, RQ2 and RQ3 figures of `system`.

    `test` is (features, true label codes), `ood_sets` maps a kind to the features of its
    irrelevant photos, and `multilabel` is (features, sets of true label codes).
    """
    features, truth = test
    report = {key: None for key in SCHEME_KEYS}
    predicted = system.predicted_codes(features)
    if predicted is not None:
        report.update(scheme_metrics(truth, predicted, label_codes))

    report["tasks"] = {}
    report["one_class_auroc"] = {}
    for task, code in TASKS.items():
        report["tasks"][task] = task_metrics(truth, system.task_predicted_codes(features, task), code, NORMAL)
        scores = system.label_scores(features, code)
        report["one_class_auroc"][task] = None if scores is None else one_class_auroc(truth, scores, code)

    in_scores = system.ood_scores(features)
    report["ood"] = {}
    for kind, ood_features in (ood_sets or {}).items():
        report["ood"][kind] = ood_report(in_scores, system.ood_scores(ood_features), len(ood_features))

    threshold = getattr(system, "threshold", None)
    report["threshold"] = rounded(threshold)
    report["false_rejection_rate"] = None if threshold is None else false_rejection_rate(system.gate_scores(features), threshold)
    if threshold is not None:
        for kind, ood_features in (ood_sets or {}).items():
            report["ood"][kind]["rejection_rate"] = rounded(np.mean(system.gate_scores(ood_features) < threshold))

    report["multilabel_top2_hit_rate"] = None
    report["multilabel_photos"] = 0
    if multilabel is not None and len(multilabel[1]):
        multilabel_features, true_sets = multilabel
        report["multilabel_top2_hit_rate"] = top2_hit_rate(system.top2_codes(multilabel_features), true_sets)
        report["multilabel_photos"] = len(true_sets)
    return report


def ood_report(in_scores, out_scores, photos):
    """Return the rejection AUROC per score, averaged over the system's detectors, and per detector."""
    by_detector = {
        detector: {name: auroc(in_scores[detector][name], out_scores[detector][name]) for name in in_scores[detector]}
        for detector in in_scores
    }
    names = next(iter(by_detector.values())).keys()
    result = {
        "photos": photos,
        "auroc": {name: mean_and_std([values[name] for values in by_detector.values()])[0] for name in names},
    }
    if len(by_detector) > 1:
        result["auroc_by_detector"] = by_detector
    return result


def numeric_paths(report, prefix=()):
    """Yield (path, value) of every number or null in a report, skipping lists and the confusion matrix."""
    for key, value in report.items():
        if key in ("confusion_matrix", "per_fold"):
            continue
        path = prefix + (key,)
        if isinstance(value, dict):
            yield from numeric_paths(value, path)
        elif value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
            yield path, value


def set_path(target, path, value):
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


# Every report has these keys (null where a figure does not apply); docs/evaluation.md documents them.
STABLE_KEYS = (
    "model_version",
    "test_set.photos",
    "accuracy",
    "macro_f1",
    "per_label",
    "confusion_matrix",
    "tasks.defect.accuracy",
    "tasks.defect.f1",
    "tasks.dirt.accuracy",
    "tasks.dirt.f1",
    "one_class_auroc.defect",
    "one_class_auroc.dirt",
    "ood",
    "threshold",
    "false_rejection_rate",
    "multilabel_top2_hit_rate",
    "figures",
)


def aggregate(fold_reports, photo_counts="sum"):
    """Return (mean report, standard-deviation report) over folds, with the same keys as one fold's.

    Photo counts are summed when every fold tests different photos, and kept as one
    fold's count (`photo_counts="same"`) when every fold tests the same external set.
    """
    mean, std = {}, {}
    paths = {}
    for report in fold_reports:
        for path, value in numeric_paths(report):
            paths.setdefault(path, []).append(value)
    for path, values in paths.items():
        average, deviation = mean_and_std(values)
        if path[-1] in ("photos", "support", "multilabel_photos"):
            # OOD and multi-label photos are the same in every fold, whatever `photo_counts` is.
            same_photos = photo_counts == "same" or path[0] == "ood" or path[-1] == "multilabel_photos"
            average, deviation = int(max(values) if same_photos else sum(values)), None
        set_path(mean, path, average)
        set_path(std, path, deviation)
    for key in SCHEME_KEYS + ("multilabel_top2_hit_rate", "false_rejection_rate", "threshold"):
        mean.setdefault(key, None)
    return mean, std


def format_number(value, deviation=None):
    if value is None:
        return "n/a"
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    return text if deviation is None else f"{text} ± {deviation:.3f}"


def lookup(report, path):
    for key in path:
        if not isinstance(report, dict) or key not in report:
            return None
        report = report[key]
    return report


def table_rows(report, std=None):
    """Return (figure, value) rows of the headline figures, with deviations where given."""
    paths = [
        ("accuracy (whole scheme)", ("accuracy",)),
        ("macro F1 (whole scheme)", ("macro_f1",)),
        ("defect task accuracy", ("tasks", "defect", "accuracy")),
        ("defect task F1", ("tasks", "defect", "f1")),
        ("dirt task accuracy", ("tasks", "dirt", "accuracy")),
        ("dirt task F1", ("tasks", "dirt", "f1")),
        ("one-class AUROC, Defect", ("one_class_auroc", "defect")),
        ("one-class AUROC, Dirt", ("one_class_auroc", "dirt")),
    ]
    for kind, figures in (report.get("ood") or {}).items():
        for name in figures.get("auroc", {}):
            paths.append((f"{kind} rejection AUROC ({name})", ("ood", kind, "auroc", name)))
        paths.append((f"{kind} rejected at threshold", ("ood", kind, "rejection_rate")))
    paths += [
        ("false-rejection rate at threshold", ("false_rejection_rate",)),
        ("multi-label photos with both labels in top-2", ("multilabel_top2_hit_rate",)),
    ]
    return [(name, format_number(lookup(report, path), lookup(std, path) if std else None)) for name, path in paths]


def render_table(rows, headers):
    widths = [max(len(str(row[column])) for row in [headers, *rows]) for column in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(headers, widths))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def render_text(report):
    """Return the report as readable tables: headline figures, per-label figures, comparison, cost."""
    sections = [f"Model version {report['model_version']} on {report['test_set']['source']} ({report['test_set']['photos']} photos)"]
    if report.get("cv"):
        sections[0] += f", {report['cv']['folds']}-fold cross-validation of the {report['cv']['recipe']} recipe (mean ± standard deviation)"
    sections.append(render_table(table_rows(report, report.get("std")), ("figure", "value")))

    if report.get("per_label"):
        rows = [
            (code, format_number(figures["precision"]), format_number(figures["recall"]), format_number(figures["f1"]), figures["support"])
            for code, figures in report["per_label"].items()
        ]
        sections.append(render_table(rows, ("label", "precision", "recall", "F1", "photos")))

    compare = report.get("compare")
    if compare:
        systems = list(compare["systems"])
        columns = [dict(table_rows(compare["systems"][name], (compare.get("std") or {}).get(name))) for name in systems]
        figures = list(dict.fromkeys(figure for column in columns for figure in column))
        rows = [(figure, *(column.get(figure, "n/a") for column in columns)) for figure in figures]
        sections.append(render_table(rows, ("figure", *systems)))
        cost_rows = [
            (
                name,
                cost["models"],
                cost["forward_passes_per_photo"],
                format_number(cost["seconds_per_1000_photos"]),
                cost["prediction_tables"],
            )
            for name, cost in compare["cost"].items()
        ]
        sections.append(render_table(cost_rows, ("system", "models", "forward passes/photo", "s per 1000 photos", "prediction tables")))
    if report.get("figures"):
        sections.append("Figures: " + ", ".join(report["figures"].values()))
    return "\n\n".join(sections)
