"""Evaluating a model version: the three research questions, cross-validation and the baselines.

1. Load the photos: the test set (a folder or the version's held-out split), the OOD
   folders and the multi-label folder.
2. Turn every photo into backbone features once; heads are cheap to fit and apply on them.
3. Without --cv, score the version itself. With --cv K, fit the training recipe on K folds
   and report the mean and standard deviation of each figure.
4. With --compare, fit the task-centric and multi-task baselines on the same photos and
   features, and measure what each system costs to run.
5. Draw the figures and store the report on the version.
"""
import io
import logging
import tempfile
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from django.utils import timezone

from inference.evaluation import crossval, datasets, figures
from inference.evaluation.cost import cost_table
from inference.evaluation.metrics import scheme_metrics
from inference.evaluation.report import aggregate, system_report
from inference.evaluation.systems import TASKS, ConcatenatedSystem, train_concatenated, train_multi_task, train_task_centric
from inference.ml.features import FeatureCache, extract_features
from inference.ml.network import EfficientNetLite0, build_classifier
from inference.ml.training import TrainingConfig
from inference.models import ModelVersion

logger = logging.getLogger(__name__)


class EvaluationError(RuntimeError):
    pass


@dataclass
class EvaluationRequest:
    test_dir: str = None
    ood_dirs: list = field(default_factory=list)
    multilabel_dir: str = None
    folds: int = None
    # The training mode that cross-validation repeats per fold, when not the version's own.
    recipe: str = None
    compare: bool = False
    label_map: dict = None
    seed: int = 0

    def settings(self):
        return {
            "test": self.test_dir,
            "ood": list(self.ood_dirs),
            "multilabel": self.multilabel_dir,
            "cv": self.folds,
            "recipe": self.recipe,
            "compare": self.compare,
            "label_map": self.label_map,
            "seed": self.seed,
        }


@dataclass
class PhotoSets:
    """The photos of one evaluation: the test set, the OOD folders by kind and the multi-label photos."""

    test: list
    test_source: str
    skipped_folders: list
    ood: dict
    multilabel: list


def find_version(name=None):
    """Return the model version named `name`, or the active one; raise EvaluationError naming the choices."""
    if name:
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            names = ", ".join(ModelVersion.objects.values_list("name", flat=True)[:20]) or "none"
            raise EvaluationError(f"Model version {name!r} not found; versions: {names}.")
        return version
    version = ModelVersion.objects.active()
    if version is None:
        raise EvaluationError("No model version is active; name one with --model or train one with `manage.py train --activate`.")
    return version


def recipe_of(version):
    """Return the version's training settings as a TrainingConfig, ignoring keys that TrainingConfig no longer has."""
    known = TrainingConfig.__dataclass_fields__
    return TrainingConfig(**{key: value for key, value in (version.training_settings or {}).items() if key in known})


def load_photo_sets(version, request):
    training, held_out = datasets.held_out_split(version)
    if request.test_dir:
        test, skipped = datasets.labeled_folder(request.test_dir, request.label_map)
        source = str(request.test_dir)
    else:
        test, skipped, source = held_out, [], "the held-out split"
    ood_sets = dict(datasets.ood_folder(path) for path in request.ood_dirs)
    multilabel = datasets.multilabel_folder(request.multilabel_dir) if request.multilabel_dir else []
    return PhotoSets(test, source, skipped, ood_sets, multilabel), training, held_out


def version_network(version):
    """Return the version's network on the CPU with its trained weights, in eval mode."""
    with version.weights.open("rb") as handle:
        checkpoint = torch.load(io.BytesIO(handle.read()), map_location="cpu", weights_only=True)
    if checkpoint["label_codes"] != version.label_codes:
        raise EvaluationError(f"Weights of {version.name} name labels {checkpoint['label_codes']}, the version {version.label_codes}.")
    model = EfficientNetLite0(num_classes=len(version.label_codes))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def features_of(model, photos, views=0, cache=None):
    """Return (photos, 1 + views, dim) features, cached by photo content and backbone."""
    if not photos:
        return np.zeros((0, 1 + views, model._fc.in_features), dtype=np.float32)
    return extract_features(model, photos, views, cache or FeatureCache(model), loader=datasets.load_any_photo)


def evaluate_version(version, request, progress=print):
    """Evaluate `version` as `request` sets out, store the report on the version and return it."""
    started = time.monotonic()
    recipe = recipe_of(version)
    if request.recipe:
        recipe = replace(recipe, mode=request.recipe)
    sets, training, held_out = load_photo_sets(version, request)
    if not request.test_dir and not request.folds and not held_out:
        raise EvaluationError(
            f"{version.name} has no held-out photos to test on, as its training split kept every photo; give --test DIR or --cv K."
        )
    progress(f"Evaluating {version.name} on {sets.test_source}: {len(sets.test)} photos, "
             f"{sum(len(photos) for photos in sets.ood.values())} OOD, {len(sets.multilabel)} multi-label.")

    if request.folds:
        report, curves = cross_validated_report(version, request, recipe, sets, progress)
    else:
        report, curves = single_split_report(version, request, recipe, sets, training, progress)

    report = {
        "model_version": version.name,
        "label_codes": list(version.label_codes),
        "evaluated_at": timezone.now().isoformat(),
        "settings": request.settings(),
        "training_settings": version.training_settings,
        "test_set": {"source": sets.test_source, "photos": len(sets.test), "skipped_folders": sets.skipped_folders},
        **report,
    }
    report["figures"] = figures.save_figures(version.name, report.get("confusion_matrix"), *curves)
    report["seconds"] = round(time.monotonic() - started, 1)
    version.evaluation = report
    version.save(update_fields=["evaluation"])
    logger.info("evaluated %s on %d photos in %.1f s", version.name, len(sets.test), report["seconds"])
    return report


def truth_of(photos):
    return [photo.primary_label for photo in photos]


def multilabel_input(features, photos):
    return (features, [set(photo.label_codes) for photo in photos])


def single_split_report(version, request, recipe, sets, training, progress):
    """Score the version's own weights, and fit the baselines on its training split if asked."""
    model = version_network(version)
    test = features_of(model, sets.test)[:, 0]
    ood_sets = {kind: features_of(model, photos)[:, 0] for kind, photos in sets.ood.items()}
    multilabel = features_of(model, sets.multilabel)[:, 0]
    version_system = ConcatenatedSystem(list(version.label_codes), model._fc, version.ood_threshold)
    ml = multilabel_input(multilabel, sets.multilabel) if sets.multilabel else None
    report = system_report(version_system, version.label_codes, (test, truth_of(sets.test)), ood_sets, ml)
    curves = curves_of(version_system, test, truth_of(sets.test), ood_sets)

    if request.compare:
        progress(f"Fitting the baselines on the {len(training)} photos of {version.name}'s training split.")
        backbone = build_classifier(len(version.label_codes)).eval()
        train_features = features_of(backbone, training, recipe.augmented_views)
        if backbone_matches(backbone, model):
            frozen = (test, ood_sets, multilabel)
        else:
            # A fine-tuned version has its own backbone; the baselines use the frozen ImageNet one.
            frozen = (features_of(backbone, sets.test)[:, 0],
                      {kind: features_of(backbone, photos)[:, 0] for kind, photos in sets.ood.items()},
                      features_of(backbone, sets.multilabel)[:, 0])
        baselines = [
            train_task_centric(train_features, training, recipe.head_weight_decay, recipe.seed),
            train_multi_task(train_features, training, version.label_codes, recipe.head_weight_decay, recipe.seed),
        ]
        systems = {"concatenated": dict(report)}
        for system in baselines:
            ml = multilabel_input(frozen[2], sets.multilabel) if sets.multilabel else None
            systems[system.name] = system_report(system, version.label_codes, (frozen[0], truth_of(sets.test)), frozen[1], ml)
        timing_photos = sets.test or training
        report["compare"] = {"systems": systems, "cost": cost_table([version_system, *baselines], model, timing_photos)}
    return report, curves


def backbone_matches(first, second):
    return FeatureCache(first).root == FeatureCache(second).root


def curves_of(system, test, truth, ood_sets):
    """Return the score pairs that the ROC figures plot: one-class per task label, OOD per kind."""
    one_class = {}
    for code in TASKS.values():
        scores = system.label_scores(test, code)
        is_target = np.array([label == code for label in truth])
        if scores is not None and is_target.any() and (~is_target).any():
            one_class[code] = (scores[is_target], scores[~is_target])
    in_scores = system.gate_scores(test)
    ood_curves = {kind: (in_scores, system.gate_scores(features)) for kind, features in ood_sets.items()}
    return one_class, ood_curves


def cross_validated_report(version, request, recipe, sets, progress):
    """Fit the training recipe on K folds of every training photo and average the figures.

    Each fold's model is tested on its held-out fold, or on the --test folder when one is
    given; the baselines, when asked for, are fitted on the same folds.
    """
    examples = [example for example in datasets.training_examples() if example.primary_label in version.label_codes]
    label_codes = list(version.label_codes)
    backbone = build_classifier(len(label_codes)).eval()
    cache = FeatureCache(backbone)
    progress(f"Extracting features of {len(examples)} training photos ({1 + recipe.augmented_views} views each).")
    features = features_of(backbone, examples, recipe.augmented_views, cache)
    ood_sets = {kind: features_of(backbone, photos, 0, cache)[:, 0] for kind, photos in sets.ood.items()}
    multilabel = features_of(backbone, sets.multilabel, 0, cache)[:, 0]
    external = features_of(backbone, sets.test, 0, cache)[:, 0] if request.test_dir else None
    ml = multilabel_input(multilabel, sets.multilabel) if sets.multilabel else None

    def fit(train_features, train_examples):
        return train_concatenated(train_features, train_examples, label_codes, recipe.head_weight_decay, None, recipe.seed)

    folds = crossval.fold_indices([example.primary_label for example in examples], request.folds, request.seed)
    fold_reports = {"concatenated": [], "task_centric": [], "multi_task": []}
    pooled_truth, pooled_predicted, pooled_test, pooled_ood = [], [], [], {kind: [] for kind in ood_sets}
    systems = []
    for number, (train_rows, test_rows) in enumerate(folds, start=1):
        train_examples = [examples[index] for index in train_rows]
        train_features = features[train_rows]
        fold_tests = [examples[index] for index in test_rows] if external is None else sets.test
        truth = [example.primary_label for example in fold_tests] if external is None else truth_of(sets.test)
        if recipe.mode == "finetune":
            progress(f"Fold {number}/{len(folds)}: fine-tuning on {len(train_rows)} photos.")
            network, threshold = crossval.finetuned_fold(train_features, train_examples, label_codes, recipe)
            system = ConcatenatedSystem(label_codes, network._fc, threshold)
            # The fine-tuned backbone computes every photo's features anew, cached only for this fold.
            with tempfile.TemporaryDirectory() as folder:
                fold_cache = FeatureCache(network, root=folder)
                test = features_of(network, fold_tests, 0, fold_cache)[:, 0]
                fold_ood = {kind: features_of(network, photos, 0, fold_cache)[:, 0] for kind, photos in sets.ood.items()}
                fold_ml = multilabel_input(features_of(network, sets.multilabel, 0, fold_cache)[:, 0], sets.multilabel) if sets.multilabel else None
        else:
            system = fit(train_features, train_examples)
            system.threshold = crossval.fold_threshold(train_features, train_examples, label_codes, recipe, fit)
            test = features[test_rows, 0] if external is None else external
            fold_ood, fold_ml = ood_sets, ml
        systems = [system]
        if request.compare:
            systems += [
                train_task_centric(train_features, train_examples, recipe.head_weight_decay, recipe.seed),
                train_multi_task(train_features, train_examples, label_codes, recipe.head_weight_decay, recipe.seed),
            ]
        fold_reports["concatenated"].append(system_report(system, label_codes, (test, truth), fold_ood, fold_ml))
        # The baselines are heads on the frozen backbone, whatever the recipe.
        frozen_test = features[test_rows, 0] if external is None else external
        for baseline in systems[1:]:
            fold_reports[baseline.name].append(system_report(baseline, label_codes, (frozen_test, truth), ood_sets, ml))
        pooled_truth += truth
        pooled_predicted += system.predicted_codes(test)
        pooled_test.append((system, test, truth))
        for kind, ood_features in fold_ood.items():
            pooled_ood[kind].append(system.gate_scores(ood_features))
        accuracy = fold_reports["concatenated"][-1]["accuracy"]
        progress(f"Fold {number}/{len(folds)}: {len(train_rows)} training photos, {len(truth)} test photos, accuracy {accuracy:.3f}.")

    photo_counts = "sum" if external is None else "same"
    report, std = aggregate(fold_reports["concatenated"], photo_counts)
    report["confusion_matrix"] = pooled_confusion(pooled_truth, pooled_predicted, label_codes)
    report["std"] = std
    report["cv"] = {
        "folds": len(folds),
        "recipe": recipe.mode,
        "augmented_views": recipe.augmented_views,
        "training_photos": len(examples),
        "per_fold": [{"accuracy": fold["accuracy"], "test_photos": len(test_rows)} for fold, (_, test_rows) in zip(fold_reports["concatenated"], folds)],
    }
    if request.compare:
        means, deviations = {}, {}
        for name, reports in fold_reports.items():
            means[name], deviations[name] = aggregate(reports, photo_counts)
        report["compare"] = {
            "systems": means,
            "std": deviations,
            "cost": cost_table(systems, backbone, sets.test or examples),
        }
    return report, pooled_curves(pooled_test, pooled_ood)


def pooled_confusion(truth, predicted, label_codes):
    return scheme_metrics(truth, predicted, label_codes)["confusion_matrix"]


def pooled_curves(pooled_test, pooled_ood):
    """Return ROC score pairs pooled over folds: every fold model's scores on its own test photos."""
    one_class, gate = {}, []
    for system, test, truth in pooled_test:
        fold_one_class, _ = curves_of(system, test, truth, {})
        for code, (positive, negative) in fold_one_class.items():
            previous = one_class.get(code, ([], []))
            one_class[code] = (np.concatenate([previous[0], positive]), np.concatenate([previous[1], negative]))
        gate.append(system.gate_scores(test))
    in_scores = np.concatenate(gate) if gate else np.zeros(0)
    ood_curves = {kind: (in_scores, np.concatenate(scores)) for kind, scores in pooled_ood.items() if scores}
    return one_class, ood_curves
