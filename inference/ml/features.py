"""Backbone features of photos, cached on disk by content so retraining skips the backbone."""
import hashlib
import logging
from pathlib import Path

import numpy as np
import torch
from django.conf import settings
from django.core.files.storage import default_storage

from inference.ml.network import IMAGE_SIZE
from inference.ml.transforms import eval_transform, train_transform
from inspection.imaging import open_photo

logger = logging.getLogger(__name__)

# Photos are decoded at about twice the input size: enough for random crops, and JPEG
# draft mode makes it far cheaper than a full-resolution decode.
DECODE_SIZE = IMAGE_SIZE * 2


def backbone_digest(model):
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if not name.startswith("_fc."):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class FeatureCache:
    """One `.npy` file per photo, backbone and view; a view is the eval transform or a seeded augmentation."""

    def __init__(self, model, root=None):
        self.root = Path(root or settings.SOFAR_FEATURE_CACHE_DIR) / backbone_digest(model)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256, view):
        return self.root / sha256[:2] / f"{sha256}-{view}.npy"

    def get(self, sha256, view):
        path = self.path(sha256, view)
        return np.load(path) if path.exists() else None

    def put(self, sha256, view, features):
        path = self.path(sha256, view)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npy")
        np.save(temporary, features)
        temporary.replace(path)


def load_photo(file_name):
    with default_storage.open(file_name, "rb") as handle:
        return open_photo(handle, target_size=DECODE_SIZE)


@torch.inference_mode()
def extract_features(model, examples, augmented_views=0, cache=None, progress=None, batch_size=16, loader=None):
    """Return features of shape (examples, 1 + augmented_views, 1280).

    View 0 is the eval transform; views 1.. are augmentations seeded by photo and view, so
    a cached augmentation is the same one that would be computed again. `loader` decodes
    an example into an image; the default reads `example.file_name` from media storage.
    """
    loader = loader or (lambda example: load_photo(example.file_name))
    model.eval()
    cache = cache or FeatureCache(model)
    views = 1 + augmented_views
    output = np.zeros((len(examples), views, model._fc.in_features), dtype=np.float32)
    pending = []
    for index, example in enumerate(examples):
        missing = []
        for view in range(views):
            cached = cache.get(example.sha256, view)
            if cached is None:
                missing.append(view)
            else:
                output[index, view] = cached
        if missing:
            pending.append((index, example, missing))
        elif progress:
            progress(1)

    evaluate, augment = eval_transform(), train_transform()
    queue = []

    def flush():
        batch = torch.stack([tensor for _, _, _, tensor in queue])
        features = model.features(batch).numpy()
        for (index, sha256, view, _), row in zip(queue, features):
            output[index, view] = row
            cache.put(sha256, view, row)
        queue.clear()

    for index, example, missing in pending:
        image = loader(example)
        for view in missing:
            if view == 0:
                tensor = evaluate(image)
            else:
                torch.manual_seed(int(example.sha256[:12], 16) + view)
                tensor = augment(image)
            queue.append((index, example.sha256, view, tensor))
            if len(queue) >= batch_size:
                flush()
        if progress:
            progress(1)
    if queue:
        flush()
    return output
