"""Photos to evaluate on: the held-out split, folder-per-label test sets, OOD folders, multi-label folders."""
import csv
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from inspection.imaging import open_photo
from inspection.services.labels import label_lookup, normalize_label_name
from inference.ml.data import Example, stratified_split, training_examples
from inference.ml.features import DECODE_SIZE, load_photo

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".bmp", ".gif", ".tif", ".tiff"}
MULTILABEL_MANIFEST = "labels.csv"
LABEL_SEPARATOR = ";"

# Folder names of public car-photo sets that the label scheme's aliases do not cover. A
# value of None skips the folder: `car_interior` mixes seats, dashboards and consoles,
# which no single label of the scheme describes.
DEFAULT_FOLDER_LABELS = {"car_damage": "DEFECT", "car_clean": "NORMAL", "car_interior": None}


class DatasetError(ValueError):
    pass


@dataclass(frozen=True)
class FolderPhoto:
    """A photo file outside the database, shaped like a training `Example` for feature extraction."""

    path: Path
    sha256: str
    label_codes: tuple = ()

    @property
    def file_name(self):
        return str(self.path)

    @property
    def primary_label(self):
        return self.label_codes[0]


def load_folder_photo(photo):
    with open(photo.path, "rb") as handle:
        return open_photo(handle, target_size=DECODE_SIZE)


def load_any_photo(photo):
    """Decode a `FolderPhoto` from disk or an `Example` from media storage."""
    if isinstance(photo, FolderPhoto):
        return load_folder_photo(photo)
    return load_photo(photo.file_name)


def image_files(folder):
    return sorted(
        path for path in Path(folder).iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES
    )


def folder_photo(path, label_codes=()):
    return FolderPhoto(Path(path), hashlib.sha256(Path(path).read_bytes()).hexdigest(), tuple(label_codes))


def read_label_map(path):
    """Read a JSON object mapping folder names to label codes or aliases (null skips a folder)."""
    try:
        mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DatasetError(f"Label map {path} is not a readable JSON file: {error}.") from None
    if not isinstance(mapping, dict) or not all(isinstance(value, (str, type(None))) for value in mapping.values()):
        raise DatasetError(f'Label map {path} must be a JSON object of folder name to label code, e.g. {{"car_damage": "DEFECT"}}.')
    return mapping


def folder_labels(label_map=None):
    """Return normalized folder name -> label code (or None to skip), defaults first, `label_map` over them."""
    lookup = label_lookup()
    mapping = {}
    for folder, code in {**DEFAULT_FOLDER_LABELS, **(label_map or {})}.items():
        if code is not None:
            label = lookup.get(normalize_label_name(code))
            if label is None:
                raise DatasetError(f"Label map entry {code!r} for folder {folder!r} is not a label; known labels: {', '.join(known_codes(lookup))}.")
            code = label.code
        mapping[normalize_label_name(folder)] = code
    return mapping


def known_codes(lookup):
    return sorted({label.code for label in lookup.values()})


def labeled_folder(root, label_map=None):
    """Return the photos of a folder-per-label test set and the names of the folders it skipped.

    A folder maps onto a label by the `label_map` (defaults: `car_damage` is DEFECT,
    `car_clean` is NORMAL), else by the codes and aliases of the label scheme.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Test folder {root} does not exist.")
    lookup = label_lookup()
    mapping = folder_labels(label_map)
    photos, skipped = [], []
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        key = normalize_label_name(folder.name)
        if key in mapping:
            code = mapping[key]
        elif key in lookup:
            code = lookup[key].code
        else:
            raise DatasetError(
                f"Folder {folder.name!r} of {root} matches no label; known labels: {', '.join(known_codes(lookup))}. "
                "Map it with --label-map."
            )
        if code is None:
            skipped.append(folder.name)
            continue
        photos.extend(folder_photo(path, [code]) for path in image_files(folder))
    if not photos:
        raise DatasetError(f"Test folder {root} contains no photos in label folders.")
    return photos, skipped


def ood_folder(path):
    """Return (kind, photos) of a folder of irrelevant photos; the folder's name is the kind."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"OOD folder {path} does not exist.")
    photos = [folder_photo(file) for file in image_files(path)]
    if not photos:
        raise DatasetError(f"OOD folder {path} contains no photos.")
    return path.name, photos


def multilabel_folder(path):
    """Return the photos of a folder whose `labels.csv` lists each file with its labels.

    The manifest has the columns `file` and `labels`, the labels separated by `;`
    (codes or aliases, e.g. `DEFECT;DIRT`).
    """
    path = Path(path)
    manifest = path / MULTILABEL_MANIFEST
    if not manifest.is_file():
        raise DatasetError(f"Multi-label folder {path} has no {MULTILABEL_MANIFEST} with columns file,labels.")
    lookup = label_lookup()
    photos = []
    with open(manifest, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"file", "labels"} <= set(reader.fieldnames or []):
            raise DatasetError(f"{manifest} must have the columns file and labels.")
        for line, row in enumerate(reader, start=2):
            names = [name.strip() for name in row["labels"].split(LABEL_SEPARATOR) if name.strip()]
            labels = [lookup.get(normalize_label_name(name)) for name in names]
            if None in labels or not labels:
                raise DatasetError(
                    f"{manifest} line {line}: labels {row['labels']!r} are not all labels of the scheme; "
                    f"known labels: {', '.join(known_codes(lookup))}."
                )
            file = path / row["file"].strip()
            if not file.is_file():
                raise DatasetError(f"{manifest} line {line}: file {row['file']!r} not found in {path}.")
            photos.append(folder_photo(file, [label.code for label in labels]))
    return photos


def held_out_split(version):
    """Return (training, held-out) examples, split as the version's training split them.

    The split is recomputed from the current training labels with the version's seed and
    validation fraction, so labels added since training can move photos between the sides.
    """
    settings = version.training_settings or {}
    examples = [example for example in training_examples() if example.primary_label in version.label_codes]
    return stratified_split(examples, settings.get("validation_fraction", 0.2), settings.get("seed", 0))

