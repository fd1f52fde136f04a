"""Tools of the fault tests: Celery workers and a Redis server that a test can kill, a tiny model."""
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw

from inspection.models import Label, TrainingLabel
from inspection.services.labels import add_training_label
from inspection.services.photos import Upload, store_photo
from tests.conftest import PROJECT_ROOT, database_url

READY_TIMEOUT = 90


def wait_until(condition, timeout, message, interval=0.1):
    """Call `condition` until it returns a true value and return that value; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        time.sleep(interval)


class WorkerProcess:
    """A `celery worker` in its own process group, so that SIGKILL takes its pool children too."""

    def __init__(self, log_path, broker_url=None, name="worker", concurrency=1):
        self.log_path = Path(log_path)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sofar_site.settings.test",
            "DATABASE_URL": database_url(),
            "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "CELERY_BROKER_URL": broker_url or settings.CELERY_BROKER_URL,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "sofar_site", "worker",
            "--queues", "inference", "--concurrency", str(concurrency), "--pool", "prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
            "--hostname", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(self._ready, READY_TIMEOUT, f"worker did not start; log:\n{self.log()}", interval=0.2)

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}; log:\n{self.log()}")
        return "ready." in self.log()

    def log(self):
        return self.log_path.read_text(errors="replace")

    def is_alive(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL the worker and its pool children at once, as the OOM killer or a lost node would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if not self.is_alive():
            return
        # A cold shutdown (SIGQUIT): a warm one would wait for the batch in hand, and the
        # test's checks are already done.
        os.killpg(self.process.pid, signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


class RedisServer:
    """A throw-away redis-server on 127.0.0.1 with no persistence, which a test may restart."""

    def __init__(self, port, folder):
        self.port = port
        self.folder = Path(folder)
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None
        self.start()

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_until(self._answers, 15, f"redis-server on port {self.port} did not start", interval=0.1)

    def _answers(self):
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server on port {self.port} exited; is the port taken?") from None
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def scene_bytes(seed, dirty=False, size=(64, 48), image_format="JPEG"):
    """Return a small generated car photo, distinct for every `seed`: sky, road, a car, dirt if asked."""
    width, height = size
    image = Image.new("RGB", size, (135, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height * 3 // 4, width, height], fill=(90, 90, 90))
    draw.rectangle([width // 4, height // 3, width * 3 // 4, height * 3 // 4], fill=(200, 30, 30))
    if dirty:
        for spot in range(6):
            x, y = (seed * 7 + spot * 11) % width, height // 3 + (spot * 5) % (height // 3)
            draw.ellipse([x, y, x + 8, y + 6], fill=(110, 80, 40))
    # A few pixels set from the seed so that no two photos share their bytes.
    draw.point([(seed % width, 0), ((seed // width) % width, 1)], fill=(seed % 256, 255 - seed % 256, 0))
    output = io.BytesIO()
    image.save(output, format=image_format, quality=92)
    return output.getvalue()


def train_tiny_model():
    """Train and activate a two-label model on eight generated photos (seconds on a CPU)."""
    from inference.ml.training import TrainingConfig, train_model_version

    labels = Label.objects.in_bulk(["NORMAL", "DIRT"], field_name="code")
    for seed in range(4):
        for code, dirty in (("NORMAL", False), ("DIRT", True)):
            photo, _ = store_photo(Upload(data=scene_bytes(9000 + seed, dirty=dirty), original_name=f"train-{seed}.jpg"))
            add_training_label(photo, [labels[code]], TrainingLabel.Source.DATASET)
    return train_model_version(TrainingConfig(augmented_views=0), activate=True)
