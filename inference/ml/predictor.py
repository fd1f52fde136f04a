"""A model version loaded for inference, cached once per worker process.

Weights come from media storage (local disk or S3) and are kept on the worker's local
disk by their SHA-256, so a worker with no shared disk downloads each version once. On
CPU the forward pass runs in ONNX Runtime when it is installed: on 2 CPU cores, at batch
32, it ran EfficientNet-Lite0 in 37 ms per photo against eager PyTorch's 153 ms (one
measurement on a shared machine). bench/throughput.py checks that both give the same
top-2 labels.
"""
import hashlib
import io
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path

import torch
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from inference.ml.network import IMAGE_SIZE, EfficientNetLite0

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "torch")
# Versions whose weights a worker keeps on disk; older ones are deleted.
CACHED_VERSIONS = 5

_cache = {}
_lock = threading.Lock()


def select_device():
    if settings.SOFAR_DEVICE != "auto":
        return torch.device(settings.SOFAR_DEVICE)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def select_backend(requested, device):
    """Return "onnx" or "torch" for `requested` ("auto", "onnx" or "torch") on `device`."""
    if requested not in BACKENDS:
        raise ImproperlyConfigured(f"SOFAR_INFERENCE_BACKEND={requested!r} is not valid; use one of {', '.join(BACKENDS)}.")
    if requested == "onnx" and device.type != "cpu":
        raise ImproperlyConfigured(f"SOFAR_INFERENCE_BACKEND=onnx runs on the CPU only, but the device is {device}; use torch or auto.")
    if requested != "auto":
        return requested
    if device.type != "cpu":
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    return "onnx"


def write_atomically(path, data):
    """Write `data` to `path` through a temporary file, so no reader ever sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as output:
        output.write(data)
    os.replace(temporary, path)


def read_weights(version):
    """Return the bytes of `version`'s weights, from the local cache or else from storage.

    A version without a recorded SHA-256 is read from storage every time, because a
    cached file could not be checked.
    """
    expected = version.weights_sha256
    cached = Path(settings.SOFAR_WEIGHTS_CACHE_DIR) / f"{expected}.pt"
    if expected and cached.exists():
        data = cached.read_bytes()
        if hashlib.sha256(data).hexdigest() == expected:
            return data
        logger.warning("cached weights %s do not match their SHA-256; downloading them again", cached)

    with version.weights.open("rb") as handle:
        data = handle.read()
    if expected:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise ValueError(
                f"Weights file {version.weights.name} of {version.name} has SHA-256 {actual}, "
                f"the version records {expected}; upload the weights again or retrain."
            )
        write_atomically(cached, data)
        logger.info("cached weights of %s in %s (%d bytes)", version.name, cached, len(data))
        prune_cache(cached.parent)
    return data


def prune_cache(folder, keep=CACHED_VERSIONS):
    """Delete all but the `keep` most recently written weights, with their ONNX exports.

    A worker's cache folder has a size limit (an emptyDir in Kubernetes). Workers mostly
    need the active version, and a deleted one is downloaded again when a batch names it.
    """
    weights = sorted(folder.glob("*.pt"), key=lambda path: path.stat().st_mtime, reverse=True)
    for path in weights[keep:]:
        path.unlink(missing_ok=True)
        path.with_suffix(".onnx").unlink(missing_ok=True)
        logger.info("removed cached weights %s", path.name)


def onnx_model_bytes(model, sha256):
    """Return `model` exported to ONNX, cached beside the weights it came from."""
    cached = Path(settings.SOFAR_WEIGHTS_CACHE_DIR) / f"{sha256}.onnx" if sha256 else None
    if cached and cached.exists():
        return cached.read_bytes()
    buffer = io.BytesIO()
    example = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    # The TorchScript exporter needs no extra package (the torch.export-based one needs
    # onnxscript). Its tracer warns that the "same" padding becomes constant, which is
    # right because every input is IMAGE_SIZE square; only the batch axis stays dynamic.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example,), buffer, input_names=["images"], output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False,
        )
    if cached:
        write_atomically(cached, buffer.getvalue())
    return buffer.getvalue()


class Classifier:
    def __init__(self, version, device=None, backend=None):
        self.version = version
        self.device = device or select_device()
        self.backend = select_backend(backend or settings.SOFAR_INFERENCE_BACKEND, self.device)
        checkpoint = torch.load(io.BytesIO(read_weights(version)), map_location="cpu", weights_only=True)
        if checkpoint["label_codes"] != version.label_codes:
            raise ValueError(f"Weights of {version.name} name labels {checkpoint['label_codes']}, the version {version.label_codes}.")
        model = EfficientNetLite0(num_classes=len(version.label_codes))
        model.load_state_dict(checkpoint["state_dict"])
        model.eval()
        if self.backend == "onnx":
            self.session = self._onnx_session(onnx_model_bytes(model, version.weights_sha256))
        else:
            self.model = model.to(self.device, memory_format=torch.channels_last)

    @staticmethod
    def _onnx_session(model_bytes):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # As many threads as PyTorch would use, which honours OMP_NUM_THREADS per worker.
        options.intra_op_num_threads = torch.get_num_threads()
        # Idle threads sleep instead of spinning, leaving the cores to the decoding threads.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

    def logits(self, batch):
        """Return the logits of a normalized (N, 3, H, W) float batch as a numpy array."""
        if self.backend == "onnx":
            return self.session.run(None, {"images": batch.numpy()})[0]
        return self._torch_logits(batch)

    @torch.inference_mode()
    def _torch_logits(self, batch):
        batch = batch.to(self.device, memory_format=torch.channels_last, non_blocking=True)
        bf16 = self.device.type == "cuda" and settings.SOFAR_CUDA_BF16
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            return self.model(batch).float().cpu().numpy()


def classifier_for(version):
    """Return the classifier of `version`, loading its weights the first time in this process.

    Only the most recent version stays loaded: a worker that sees a newly activated
    version loads it and releases the old one, with no restart.
    """
    with _lock:
        classifier = _cache.get(version.pk)
        if classifier is None:
            _cache.clear()
            classifier = _cache[version.pk] = Classifier(version)
            logger.info("loaded model version %s on %s with %s", version.name, classifier.device, classifier.backend)
        return classifier
