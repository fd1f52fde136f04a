"""import_dataset and import_photos on folders of real and generated files."""
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inspection.models import Label, Photo, TrainingLabel
from inspection.services.labels import add_training_label
from tests.conftest import shared_data_path
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def current_codes():
    return {
        label.photo.original_name: sorted(label.labels.values_list("code", flat=True))
        for label in TrainingLabel.objects.current().select_related("photo")
    }


def test_concatenated_datasets_share_the_normal_label():
    sofar = shared_data_path("sofar")

    call_command("import_dataset", sofar / "SOFAR_DATASET")
    call_command("import_dataset", sofar / "CAR_DEFECT_RECOGNITION")
    call_command("import_dataset", sofar / "CAR_DIRT_RECOGNITION")

    assert Photo.objects.count() == 60
    codes = TrainingLabel.objects.current().values_list("labels__code", flat=True)
    assert sorted(set(codes)) == sorted(
        ["NORMAL", "DEFECT", "DIRT", "BUBBLE_WASH", "WASHING_MACHINE", "DASHBOARD", "CUP_HOLDER", "GLOVEBOX", "WASHER_FLUID", "SEAT"]
    )
    assert list(codes).count("NORMAL") == 15


def test_reimporting_a_dataset_adds_nothing(tmp_path):
    (tmp_path / "dirt").mkdir()
    (tmp_path / "dirt" / "a.jpg").write_bytes(jpeg_bytes(seed=1))

    call_command("import_dataset", tmp_path)
    call_command("import_dataset", tmp_path)

    assert Photo.objects.count() == 1
    assert TrainingLabel.objects.count() == 1
    assert current_codes() == {"a.jpg": ["DIRT"]}


def test_unknown_folder_lists_known_labels_and_stores_nothing(tmp_path):
    (tmp_path / "1_DEFECT").mkdir()
    (tmp_path / "1_DEFECT" / "a.jpg").write_bytes(jpeg_bytes(seed=1))
    (tmp_path / "spaceship").mkdir()

    with pytest.raises(CommandError) as error:
        call_command("import_dataset", tmp_path)

    assert "spaceship" in str(error.value)
    assert "WASHER_FLUID" in str(error.value)
    assert Photo.objects.count() == 0


def test_folder_names_map_onto_the_scheme(tmp_path):
    for folder in ("4_CARS_INSIDE_OF_THE_WASHING_MACHINE", "Cup-Holder", "seats"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{folder}.jpg").write_bytes(jpeg_bytes(seed=len(folder)))

    call_command("import_dataset", tmp_path)

    assert current_codes() == {
        "4_CARS_INSIDE_OF_THE_WASHING_MACHINE.jpg": ["WASHING_MACHINE"],
        "Cup-Holder.jpg": ["CUP_HOLDER"],
        "seats.jpg": ["SEAT"],
    }


def test_import_photos_skips_bad_files_and_duplicates(tmp_path, capsys):
    (tmp_path / "good.jpg").write_bytes(jpeg_bytes(seed=1))
    (tmp_path / "copy.jpg").write_bytes(jpeg_bytes(seed=1))
    (tmp_path / "notes.jpg").write_bytes(b"this is a text file, not a photo")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "cut.jpg").write_bytes(jpeg_bytes(seed=2)[:300])

    call_command("import_photos", tmp_path, "--uploaded-on", "2026-12-03")

    assert Photo.objects.count() == 1
    output = capsys.readouterr()
    assert "1 new photos, 1 already stored, 3 files skipped" in output.out
    assert "notes.jpg" in output.err and "empty.jpg" in output.err and "cut.jpg" in output.err


def test_import_photos_reads_cars_and_trips_from_manifest(tmp_path):
    (tmp_path / "front.jpg").write_bytes(jpeg_bytes(seed=3))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,plate,reservation,event,taken_at\nfront.jpg,12가3456,R-77,after_trip,2026-12-03T09:15:00\n")

    call_command("import_photos", tmp_path, "--manifest", manifest, "--uploaded-on", "2026-12-03")

    photo = Photo.objects.get()
    assert photo.car.plate == "12가3456"
    assert photo.reservation_id == "R-77"
    assert photo.event == Photo.Event.AFTER_TRIP
    assert timezone.localtime(photo.taken_at).isoformat() == "2026-12-03T09:15:00+09:00"


def test_manifest_with_unknown_event_is_rejected(tmp_path):
    (tmp_path / "front.jpg").write_bytes(jpeg_bytes(seed=3))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,event\nfront.jpg,joyride\n")

    with pytest.raises(CommandError, match="joyride"):
        call_command("import_photos", tmp_path, "--manifest", manifest)

    assert Photo.objects.count() == 0


def test_stored_file_name_is_generated_not_the_upload_name(tmp_path):
    (tmp_path / "x..%2F..%2Fevil name.jpg").write_bytes(jpeg_bytes(seed=4))

    call_command("import_photos", tmp_path)

    photo = Photo.objects.get()
    assert "evil" not in photo.file.name
    assert photo.file.name.startswith("photos/")
    assert photo.thumbnail.name.startswith("thumbnails/")


def test_reimport_keeps_an_inspectors_correction(tmp_path):
    (tmp_path / "normal").mkdir()
    (tmp_path / "normal" / "a.jpg").write_bytes(jpeg_bytes(seed=5))
    call_command("import_dataset", tmp_path)
    photo = Photo.objects.get()
    add_training_label(photo, list(Label.objects.filter(code="DIRT")), TrainingLabel.Source.INSPECTOR)

    call_command("import_dataset", tmp_path)

    assert current_codes() == {"a.jpg": ["DIRT"]}
    assert TrainingLabel.objects.count() == 2
