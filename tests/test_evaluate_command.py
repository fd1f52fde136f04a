"""`manage.py evaluate` end to end on a few shared photos: the report, its keys and the baselines."""
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from inference.evaluation.report import STABLE_KEYS
from inference.ml.training import TrainingConfig, train_model_version
from tests.conftest import shared_data_path
from tests.weights import save_random_version

pytestmark = [pytest.mark.django_db, pytest.mark.shared_data]

# A few photos per label keep the whole module within about a minute on 2 cores.
TRAINING_PHOTOS = {"0_NORMAL": 3, "1_DEFECT": 3, "2_DIRT": 3, "3_BUBBLE_WASH": 2, "9_SEAT": 2}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "evaluation.md"


def copy_first(source, target, count):
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir())[:count]:
        shutil.copy(path, target / path.name)


def train_small_version(tmp_path, **settings):
    dataset = tmp_path / "dataset"
    for folder, count in TRAINING_PHOTOS.items():
        copy_first(shared_data_path("sofar", "SOFAR_DATASET", folder), dataset / folder, count)
    call_command("import_dataset", dataset, stdout=StringIO())
    return train_model_version(TrainingConfig(augmented_views=1, **settings), activate=True)


def ood_folder(tmp_path):
    copy_first(shared_data_path("ood", "receipts"), tmp_path / "receipts", 3)
    return tmp_path / "receipts"


def multilabel_folder(tmp_path):
    folder = tmp_path / "two_labels"
    folder.mkdir()
    shutil.copy(shared_data_path("sofar", "CAR_DEFECT_RECOGNITION", "1_DEFECT") / "0.jpg", folder / "a.jpg")
    shutil.copy(shared_data_path("sofar", "CAR_DIRT_RECOGNITION", "1_DIRT") / "0.jpg", folder / "b.jpg")
    (folder / "labels.csv").write_text("file,labels\na.jpg,DEFECT;DIRT\nb.jpg,dirt;defect\n")
    return folder


def external_folder(tmp_path):
    root = tmp_path / "external"
    for kind, count in (("car_damage", 2), ("car_clean", 2), ("car_interior", 1)):
        copy_first(shared_data_path("external", kind), root / kind, count)
    return root


def evaluate_json(*arguments):
    output = StringIO()
    call_command("evaluate", "--json", *arguments, stdout=output)
    return json.loads(output.getvalue())


def value_at(report, dotted_key):
    for key in dotted_key.split("."):
        report = report[key]
    return report


def test_compare_reports_three_systems_and_their_cost(tmp_path):
    version = train_small_version(tmp_path)

    report = evaluate_json("--compare", "--ood", str(ood_folder(tmp_path)), "--multilabel", str(multilabel_folder(tmp_path)))

    systems = report["compare"]["systems"]
    assert set(systems) == {"concatenated", "task_centric", "multi_task"}
    assert systems["task_centric"]["accuracy"] is None
    assert systems["concatenated"]["accuracy"] == report["accuracy"]
    assert set(systems["multi_task"]["ood"]["receipts"]["auroc"]) == {"kl_uniform"}
    assert set(report["ood"]["receipts"]["auroc"]) == {"max_logit", "msp", "energy"}
    assert report["multilabel_photos"] == 2
    cost = report["compare"]["cost"]
    assert [cost[name]["forward_passes_per_photo"] for name in ("concatenated", "task_centric", "multi_task")] == [1, 2, 1]
    assert [cost[name]["models"] for name in ("concatenated", "task_centric", "multi_task")] == [1, 2, 1]
    assert all(cost[name]["seconds_per_1000_photos"] > 0 for name in cost)
    version.refresh_from_db()
    assert version.evaluation["accuracy"] == report["accuracy"]


def test_report_has_every_stable_key_and_its_figures(tmp_path):
    train_small_version(tmp_path)

    report = evaluate_json("--ood", str(ood_folder(tmp_path)))

    for key in STABLE_KEYS:
        value_at(report, key)
    assert 0.0 <= report["false_rejection_rate"] <= 1.0
    assert set(report["figures"]) == {"confusion_matrix", "one_class_roc", "ood_roc"}
    for path in report["figures"].values():
        assert path.startswith(f"reports/{report['model_version']}/")
        assert default_storage.exists(path)


def test_cross_validation_on_external_folder_gives_deviations(tmp_path):
    train_small_version(tmp_path)

    report = evaluate_json("--cv", "2", "--test", str(external_folder(tmp_path)))

    assert report["cv"]["folds"] == 2
    assert report["test_set"]["skipped_folders"] == ["car_interior"]
    assert report["tasks"]["defect"]["photos"] == 4
    assert report["std"]["tasks"]["defect"]["accuracy"] is not None
    assert report["std"]["accuracy"] is not None


def test_cross_validation_fine_tunes_each_fold(tmp_path, caplog):
    train_small_version(tmp_path, epochs=2)
    caplog.set_level("INFO", logger="inference.ml.training")

    report = evaluate_json("--cv", "2", "--recipe", "finetune", "--ood", str(ood_folder(tmp_path)))

    epochs_done = [record.getMessage() for record in caplog.records if record.getMessage().startswith("fine-tuning epoch 2/2")]
    # Per fold: the fold's network, and the inner one that calibrates its threshold.
    assert len(epochs_done) == 4
    assert report["cv"]["recipe"] == "finetune"
    assert report["settings"]["recipe"] == "finetune"
    assert len(report["cv"]["per_fold"]) == 2
    assert 0 <= report["accuracy"] <= 1
    assert report["ood"]["receipts"]["auroc"]["max_logit"] is not None


def test_recipe_without_cross_validation_is_rejected():
    with pytest.raises(CommandError, match="give --cv K"):
        call_command("evaluate", "--recipe", "finetune")


def test_readable_output_names_the_figures(tmp_path):
    train_small_version(tmp_path)
    output = StringIO()

    call_command("evaluate", stdout=output)

    text = output.getvalue()
    assert "defect task accuracy" in text
    assert "false-rejection rate at threshold" in text
    assert "Stored the report on" in text


def test_unknown_version_lists_the_versions():
    save_random_version("random-1")

    with pytest.raises(CommandError, match="'v999' not found; versions: random-1"):
        call_command("evaluate", "--model", "v999")


def test_documented_keys_cover_the_stable_keys():
    text = DOCS.read_text(encoding="utf-8")

    missing = [key for key in STABLE_KEYS if f"`{key}`" not in text]

    assert missing == []
