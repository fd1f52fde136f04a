"""A model version loaded for inference, cached once per worker process."""
import io
import logging
import threading

import torch
from django.conf import settings

from inference.ml.network import EfficientNetLite0

logger = logging.getLogger(__name__)

_cache = {}
_lock = threading.Lock()


def select_device():
    if settings.SOFAR_DEVICE != "auto":
        return torch.device(settings.SOFAR_DEVICE)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Classifier:
    def __init__(self, version, device=None):
        self.version = version
        self.device = device or select_device()
        with version.weights.open("rb") as handle:
            checkpoint = torch.load(io.BytesIO(handle.read()), map_location="cpu", weights_only=True)
        if checkpoint["label_codes"] != version.label_codes:
            raise ValueError(f"Weights of {version.name} name labels {checkpoint['label_codes']}, the version {version.label_codes}.")
        model = EfficientNetLite0(num_classes=len(version.label_codes))
        model.load_state_dict(checkpoint["state_dict"])
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)

    @torch.inference_mode()
    def logits(self, batch):
        """Return the logits of a normalized (N, 3, H, W) batch as a numpy array."""
        batch = batch.to(self.device, memory_format=torch.channels_last)
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
            logger.info("loaded model version %s on %s", version.name, classifier.device)
        return classifier
