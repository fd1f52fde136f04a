"""The labeling admin's model versions: metrics, OOD threshold, activation and training."""
import logging

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inference.models import ModelVersion, TrainingJob
from inference.services.training import TrainingInProgress, request_training
from inference.services.versions import InvalidThreshold, activate_version, set_threshold
from inspection.forms import ThresholdForm, TrainingForm
from inspection.models import Label
from inspection.views.access import permission_required

logger = logging.getLogger(__name__)

# htmx stops polling an element when the response has this status.
HTMX_STOP_POLLING = 286

# Captions of the figures the evaluation saves; a figure of another name shows its name.
FIGURE_TITLES = {
    "confusion_matrix": gettext_lazy("Confusion matrix"),
    "one_class_roc": gettext_lazy("ROC curves: recognising each label"),
    "ood_roc": gettext_lazy("ROC curve: rejecting irrelevant photos"),
}


# The metrics training records, as people read them; a metric missing here shows its key.
METRIC_NAMES = {
    "accuracy": gettext_lazy("Validation accuracy"),
    "macro_f1": gettext_lazy("Macro F1"),
    "seconds": gettext_lazy("Training time (s)"),
    "train_photos": gettext_lazy("Training photos"),
    "validation_photos": gettext_lazy("Validation photos"),
}


def scalar_metrics(metrics):
    """Return (name, value) of the metrics that are single numbers, named for people, in a stable order."""
    numbers = sorted((key, value) for key, value in (metrics or {}).items() if isinstance(value, (int, float)))
    return [(METRIC_NAMES.get(key, key), value) for key, value in numbers]


# The report's name for its test set when it is the version's own held-out photos.
HELD_OUT_SOURCE = "the held-out split"


def _figure(report, std, *path):
    """Return "mean ± std" (or the value alone) at `path` of an evaluation report, or None when it is missing."""
    value, deviation = report, std or {}
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
        deviation = deviation.get(key) if isinstance(deviation, dict) else None
    if not isinstance(value, (int, float)):
        return None
    return f"{value:.3f} ± {deviation:.3f}" if isinstance(deviation, (int, float)) else f"{value:.3f}"


def evaluation_summary(report):
    """Return (name, value) of the headline figures of a stored `evaluate` report, named for people."""
    if not report:
        return []
    std = report.get("std")
    test_set = report.get("test_set") or {}
    source = test_set.get("source", "")
    if source == HELD_OUT_SOURCE:
        source = gettext_lazy("the held-out split")
    rows = [(gettext_lazy("Tested on"), format_lazy("{} ({})", source, test_set.get("photos", 0)))]
    if report.get("cv"):
        rows.append((gettext_lazy("Cross-validation"), f"{report['cv']['folds']} × {report['cv']['recipe']}"))
    figures = [
        (gettext_lazy("Accuracy, whole scheme"), ("accuracy",)),
        (gettext_lazy("Macro F1"), ("macro_f1",)),
        (gettext_lazy("Defect task accuracy"), ("tasks", "defect", "accuracy")),
        (gettext_lazy("Dirt task accuracy"), ("tasks", "dirt", "accuracy")),
        (gettext_lazy("One-class AUROC, Defect"), ("one_class_auroc", "defect")),
        (gettext_lazy("One-class AUROC, Dirt"), ("one_class_auroc", "dirt")),
        (gettext_lazy("False-rejection rate at the threshold"), ("false_rejection_rate",)),
        (gettext_lazy("Two-label photos with both labels in the top-2"), ("multilabel_top2_hit_rate",)),
    ]
    for kind in sorted(report.get("ood") or {}):
        figures.append((format_lazy(gettext_lazy("Rejection AUROC, {kind} (maximum logit)"), kind=kind), ("ood", kind, "auroc", "max_logit")))
    rows += [(name, value) for name, path in figures if (value := _figure(report, std, *path)) is not None]
    return rows


def confusion_rows(metrics):
    """Return the confusion matrix as rows of (count, shade 0-100) for an HTML heat map.

    Each cell is shaded by its share of its row (the photos of one true label), so a weak
    label shows up even when it has few photos.
    """
    matrix = (metrics or {}).get("confusion_matrix") or {}
    labels, counts = matrix.get("labels", []), matrix.get("matrix", [])
    rows = []
    names = {label.code: label.display_name for label in Label.objects.filter(code__in=labels)}
    for code, row in zip(labels, counts):
        total = sum(row) or 1
        rows.append((names.get(code, code), [(count, round(100 * count / total)) for count in row]))
    return {"labels": [names.get(code, code) for code in labels], "rows": rows}


@permission_required("inspection.manage_models")
def model_list(request):
    versions = list(ModelVersion.objects.all()[:20])
    for version in versions:
        version.scalar_metrics = scalar_metrics(version.metrics)
        version.confusion_rows = confusion_rows(version.metrics)
        version.figures = [(name, FIGURE_TITLES.get(name, name)) for name in sorted((version.evaluation or {}).get("figures", {}))]
        version.evaluation_summary = evaluation_summary(version.evaluation)
        version.threshold_form = ThresholdForm(initial={"ood_threshold": round(version.ood_threshold, 3)}, prefix=f"v{version.pk}")

    context = {
        "versions": versions,
        "jobs": TrainingJob.objects.select_related("model_version", "requested_by")[:5],
        "training_form": TrainingForm(),
    }
    return render(request, "models/page.html", context)


@permission_required("inspection.manage_models")
def model_threshold(request, pk):
    version = get_object_or_404(ModelVersion, pk=pk)
    if request.method != "POST":
        return redirect("inspection:models")
    form = ThresholdForm(request.POST, prefix=f"v{version.pk}")

    message = ""
    if form.is_valid():
        try:
            set_threshold(version, form.cleaned_data["ood_threshold"], request.user)
        except InvalidThreshold as error:
            form.add_error("ood_threshold", str(error))
        else:
            message = _("OOD threshold of %(name)s saved; it applies to the next classifications.") % {"name": version.name}

    if not request.htmx:
        if message:
            messages.success(request, message)
        else:
            messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect("inspection:models")
    return render(request, "models/_threshold.html", {"version": version, "form": form, "message": message})


@permission_required("inspection.manage_models")
def model_activate(request, pk):
    version = get_object_or_404(ModelVersion, pk=pk)
    if request.method != "POST":
        return redirect("inspection:models")

    activate_version(version, request.user)
    messages.success(request, _("%(name)s now classifies new photos.") % {"name": version.name})
    return redirect("inspection:models")


@permission_required("inspection.manage_models")
def model_figure(request, pk, name):
    version = get_object_or_404(ModelVersion, pk=pk)
    path = (version.evaluation or {}).get("figures", {}).get(name)
    if not path:
        raise Http404(_("This model version has no figure %(name)s.") % {"name": name})
    try:
        handle = default_storage.open(path, "rb")
    except FileNotFoundError:
        logger.error("figure %s of model version %s is missing at %s", name, version.name, path)
        raise Http404(_("The figure's file is missing.")) from None
    return FileResponse(handle, content_type="image/png")


@permission_required("inspection.manage_models")
def training_start(request):
    if request.method != "POST":
        return redirect("inspection:models")
    form = TrainingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The training request is invalid."))
        return redirect("inspection:models")

    try:
        job = request_training(request.user, activate=form.cleaned_data["activate"], config={})
    except TrainingInProgress as error:
        messages.error(request, _("Training job %(id)s is still running; wait for it to finish.") % {"id": error.job.pk})
        return redirect("inspection:models")
    logger.info("training job %s requested by user %s", job.pk, request.user.pk)
    messages.success(request, _("Training started; its progress shows below."))
    return redirect("inspection:models")


@permission_required("inspection.manage_models")
def training_job(request, pk):
    """Render one job's progress; htmx polls it and stops once the job is finished."""
    job = get_object_or_404(TrainingJob.objects.select_related("model_version"), pk=pk)
    finished = job.status in {TrainingJob.Status.COMPLETED, TrainingJob.Status.FAILED}
    status = HTMX_STOP_POLLING if finished and request.htmx else 200
    return render(request, "models/_job.html", {"job": job}, status=status)
