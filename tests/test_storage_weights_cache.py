"""Workers keep weights on local disk by SHA-256 and pick up a newly activated version."""
import hashlib
import io
import os

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from inference.models import Prediction
from inspection.services.photos import Upload, store_photo
from tests.weights import save_random_version


@pytest.fixture(autouse=True)
def weights_cache(settings, tmp_path):
    settings.SOFAR_WEIGHTS_CACHE_DIR = tmp_path / "weights"
    settings.SOFAR_INFERENCE_BACKEND = "torch"
    return settings.SOFAR_WEIGHTS_CACHE_DIR


def stored_photo(colour):
    output = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(output, format="JPEG")
    return store_photo(Upload(data=output.getvalue(), original_name="car.jpg"))[0]


@pytest.mark.django_db
def test_first_load_caches_weights_by_sha256(weights_cache):
    from inference.ml.predictor import read_weights

    version = save_random_version("cache-v1")

    data = read_weights(version)

    assert hashlib.sha256(data).hexdigest() == version.weights_sha256
    assert (weights_cache / f"{version.weights_sha256}.pt").read_bytes() == data


@pytest.mark.django_db
def test_corrupt_cached_weights_are_fetched_again(weights_cache):
    from inference.ml.predictor import read_weights

    version = save_random_version("cache-corrupt")
    cached = weights_cache / f"{version.weights_sha256}.pt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")

    data = read_weights(version)

    assert hashlib.sha256(data).hexdigest() == version.weights_sha256
    assert cached.read_bytes() == data


@pytest.mark.django_db
def test_weights_differing_from_recorded_sha256_are_rejected(weights_cache):
    from inference.ml.predictor import read_weights

    version = save_random_version("cache-tampered")
    version.weights.storage.delete(version.weights.name)
    version.weights.storage.save(version.weights.name, ContentFile(b"other bytes"))

    with pytest.raises(ValueError, match="SHA-256"):
        read_weights(version)
    assert not (weights_cache / f"{version.weights_sha256}.pt").exists()


def test_cache_keeps_newest_weights_only(weights_cache):
    from inference.ml.predictor import prune_cache

    weights_cache.mkdir()
    for index in range(7):
        (weights_cache / f"{index}.pt").write_bytes(b"weights")
        (weights_cache / f"{index}.onnx").write_bytes(b"export")
        os.utime(weights_cache / f"{index}.pt", (1000 + index, 1000 + index))

    prune_cache(weights_cache, keep=5)

    assert sorted(path.name for path in weights_cache.glob("*.pt")) == [f"{index}.pt" for index in range(2, 7)]
    assert sorted(path.name for path in weights_cache.glob("*.onnx")) == [f"{index}.onnx" for index in range(2, 7)]


@pytest.mark.django_db
def test_worker_picks_up_newly_activated_version_without_restart():
    from inference.tasks import classify_batch

    first, second = save_random_version("active-v1", seed=1), save_random_version("active-v2", seed=2)
    red, blue = stored_photo((220, 10, 10)), stored_photo((10, 10, 220))

    first.activate()
    classify_batch(None, [red.id])
    second.activate()
    classify_batch(None, [blue.id])

    assert Prediction.objects.get(photo=red).model_version == first
    assert Prediction.objects.get(photo=blue).model_version == second
