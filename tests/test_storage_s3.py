"""Media on S3-compatible storage: photos, thumbnails and weights go to the bucket, and a
worker with no shared disk classifies from it.

The S3 server is moto's server mode on 127.0.0.1, a real HTTP endpoint that boto3 talks to
as it would to S3 or MinIO. It listens on SOFAR_TEST_S3_PORT when set, else on a free port,
so that test runs started at the same time on one machine do not collide.
"""
import io
import os
import socket
import subprocess
import sys
import time
import uuid

import boto3
import pytest
from django.contrib.auth.models import User
from PIL import Image

from inspection.services.photos import Upload, store_photo

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    port = int(os.environ.get("SOFAR_TEST_S3_PORT") or free_port())
    if port_open(port):
        pytest.fail(f"Port {port} on 127.0.0.1 is taken; set SOFAR_TEST_S3_PORT to a free port.")
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"moto server did not start on port {port}; see {log.name}")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch, tmp_path):
    """Point default storage at a new bucket on the moto server, and the weights cache at a new folder."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    name = f"sofar-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": name, "endpoint_url": s3_server, "region_name": "us-east-1", "file_overwrite": False},
        },
    }
    settings.SOFAR_WEIGHTS_CACHE_DIR = tmp_path / "weights"
    settings.SOFAR_INFERENCE_BACKEND = "torch"
    client.bucket_name = name
    return client


def jpeg_bytes(colour=(200, 40, 40), size=(96, 64)):
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, format="JPEG")
    return output.getvalue()


def object_names(client):
    listing = client.list_objects_v2(Bucket=client.bucket_name)
    return {item["Key"] for item in listing.get("Contents", [])}


@pytest.mark.django_db
def test_upload_stores_photo_and_thumbnail_in_bucket(bucket, isolated_media):
    photo, created = store_photo(Upload(data=jpeg_bytes(), original_name="front.jpg"))

    assert created
    assert {photo.file.name, photo.thumbnail.name} <= object_names(bucket)
    assert bucket.get_object(Bucket=bucket.bucket_name, Key=photo.file.name)["Body"].read() == jpeg_bytes()
    assert not (isolated_media / photo.file.name).exists()


@pytest.mark.django_db
def test_photo_view_streams_file_from_bucket(bucket, client):
    photo, _ = store_photo(Upload(data=jpeg_bytes(), original_name="front.jpg"))
    client.force_login(User.objects.create_superuser("lead", "lead@example.com", "secret-password"))

    response = client.get(f"/photos/{photo.pk}/image/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg_bytes()


@pytest.mark.django_db
def test_worker_classifies_photos_from_bucket(bucket):
    from inference.ml.batch import classify_photos
    from inference.models import Prediction
    from tests.weights import save_random_version

    photos = [store_photo(Upload(data=jpeg_bytes(colour), original_name=f"{index}.jpg"))[0] for index, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)])]
    version = save_random_version("s3-v1")

    created, failed = classify_photos([photo.id for photo in photos], version)

    assert version.weights.name in object_names(bucket)
    assert (created, failed) == (3, 0)
    assert Prediction.objects.filter(model_version=version).count() == 3


@pytest.mark.django_db
def test_worker_loads_cached_weights_without_the_bucket(bucket, settings):
    from inference.ml.predictor import Classifier
    from tests.weights import save_random_version

    version = save_random_version("s3-cached")
    Classifier(version)
    bucket.delete_object(Bucket=bucket.bucket_name, Key=version.weights.name)

    classifier = Classifier(version)

    assert (settings.SOFAR_WEIGHTS_CACHE_DIR / f"{version.weights_sha256}.pt").exists()
    assert classifier.version == version
