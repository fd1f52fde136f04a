"""Set-up shared by the benchmark scripts: Django, the shared photos and model versions.

Each script runs against the database and media that the environment names
(DATABASE_URL, DJANGO_MEDIA_ROOT or AWS_STORAGE_BUCKET_NAME); without them, against
SQLite and media in a fresh temporary folder.
"""
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SOFAR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic"}


def setup_django():
    """Configure Django for a benchmark and bring its database schema up to date."""
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofar_site.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    if "SOFAR_DATA_DIR" not in os.environ:
        os.environ["SOFAR_DATA_DIR"] = tempfile.mkdtemp(prefix="sofar-bench-")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def shared_photo_files(*folders):
    """Return the image files under the shared `sofar/` folders, in a stable order."""
    root = SHARED_DATA / "sofar"
    if not root.exists():
        raise SystemExit(f"Shared photos not found in {root}; set SOFAR_SHARED_DATA to the folder holding sofar/.")
    files = []
    for folder in folders or ("",):
        files += [path for path in sorted((root / folder).rglob("*")) if path.suffix.lower() in IMAGE_SUFFIXES]
    return files


def store_shared_photos(files, uploaded_at=None):
    """Store `files` as photos (an already stored file is reused) and return their ids."""
    from inspection.services.photos import Upload, store_photo

    ids = []
    for path in files:
        photo, _ = store_photo(Upload(data=path.read_bytes(), original_name=path.name, uploaded_at=uploaded_at))
        ids.append(photo.id)
    return ids


def create_version(model, label_codes, name_prefix, ood_threshold=-1e9):
    """Save `model` as an inactive model version named `name_prefix` plus a unique suffix."""
    import torch
    from django.core.files.base import ContentFile

    from inference.models import ModelVersion

    buffer = io.BytesIO()
    torch.save({"architecture": "efficientnet-lite0", "label_codes": label_codes, "state_dict": model.state_dict()}, buffer)
    version = ModelVersion(
        name=f"{name_prefix}-{time.time_ns()}",
        label_codes=label_codes,
        ood_threshold=ood_threshold,
        weights_sha256=hashlib.sha256(buffer.getvalue()).hexdigest(),
    )
    version.weights.save(f"{version.name}.pt", ContentFile(buffer.getvalue()), save=False)
    version.save()
    return version


def benchmark_classifier(label_codes, seed=0):
    """Return EfficientNet-Lite0 with its ImageNet backbone and a seeded random head.

    Throughput does not depend on what the head learned, and comparing top-2 labels
    between two code paths needs only the same weights on both.
    """
    import torch

    from inference.ml.network import build_classifier

    torch.manual_seed(seed)
    return build_classifier(len(label_codes)).eval()


def per_photo_ms(seconds, count):
    return 1000 * seconds / max(count, 1)
