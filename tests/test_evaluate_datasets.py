"""Test folders, OOD folders and multi-label manifests as the evaluation reads them."""
import json

import pytest

from inference.evaluation.datasets import DatasetError, labeled_folder, multilabel_folder, ood_folder, read_label_map
from inference.ml.data import Example, stratified_split
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def write_photos(folder, count, seed=0):
    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"{index}.jpg").write_bytes(jpeg_bytes(seed=seed + index))


def test_external_folders_map_onto_labels(tmp_path):
    write_photos(tmp_path / "car_damage", 2)
    write_photos(tmp_path / "car_clean", 1, seed=10)
    write_photos(tmp_path / "car_interior", 1, seed=20)

    photos, skipped = labeled_folder(tmp_path)

    assert sorted(photo.primary_label for photo in photos) == ["DEFECT", "DEFECT", "NORMAL"]
    assert skipped == ["car_interior"]


def test_scheme_folder_names_need_no_map(tmp_path):
    write_photos(tmp_path / "1_DEFECT", 1)
    write_photos(tmp_path / "CARS_INSIDE_OF_THE_WASHING_MACHINE", 1, seed=5)

    photos, _ = labeled_folder(tmp_path)

    assert [photo.primary_label for photo in photos] == ["DEFECT", "WASHING_MACHINE"]


def test_unknown_folder_names_the_known_labels(tmp_path):
    write_photos(tmp_path / "boats", 1)

    with pytest.raises(DatasetError, match="'boats'.*known labels: .*DEFECT.*--label-map"):
        labeled_folder(tmp_path)


def test_label_map_file_maps_and_skips_folders(tmp_path):
    write_photos(tmp_path / "set" / "scratches", 1)
    write_photos(tmp_path / "set" / "car_clean", 1, seed=3)
    map_file = tmp_path / "map.json"
    map_file.write_text(json.dumps({"scratches": "defect", "car_clean": None}))

    photos, skipped = labeled_folder(tmp_path / "set", read_label_map(map_file))

    assert [photo.primary_label for photo in photos] == ["DEFECT"]
    assert skipped == ["car_clean"]


def test_label_map_naming_no_label_is_rejected(tmp_path):
    write_photos(tmp_path / "set" / "scratches", 1)

    with pytest.raises(DatasetError, match="entry 'BOAT' for folder 'scratches' is not a label"):
        labeled_folder(tmp_path / "set", {"scratches": "BOAT"})


def test_ood_folder_kind_is_its_name(tmp_path):
    write_photos(tmp_path / "receipts", 2)

    kind, photos = ood_folder(tmp_path / "receipts")

    assert kind == "receipts"
    assert len(photos) == 2


def test_multilabel_manifest_reads_codes_and_aliases(tmp_path):
    write_photos(tmp_path / "both", 1)
    (tmp_path / "both" / "labels.csv").write_text("file,labels\n0.jpg,dirty;DAMAGE\n")

    (photo,) = multilabel_folder(tmp_path / "both")

    assert set(photo.label_codes) == {"DIRT", "DEFECT"}


def test_multilabel_manifest_with_unknown_label_is_rejected(tmp_path):
    write_photos(tmp_path / "both", 1)
    (tmp_path / "both" / "labels.csv").write_text("file,labels\n0.jpg,DIRT;RUST\n")

    with pytest.raises(DatasetError, match="line 2.*'DIRT;RUST'"):
        multilabel_folder(tmp_path / "both")


def test_zero_validation_fraction_holds_out_nothing():
    examples = [Example(index, f"{index:064d}", f"{index}.jpg", ("NORMAL",)) for index in range(5)]

    train, validation = stratified_split(examples, validation_fraction=0.0)

    assert len(train) == 5
    assert validation == []
