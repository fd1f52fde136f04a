"""Small model versions with random weights, saved through media storage like trained ones."""
import hashlib
import io

import torch
from django.core.files.base import ContentFile

from inference.ml.network import EfficientNetLite0
from inference.models import ModelVersion
from inspection.models import Label


def save_random_version(name, seed=0):
    """Save an EfficientNet-Lite0 with seeded random weights over the label scheme as `name`."""
    label_codes = list(Label.objects.order_by("position", "code").values_list("code", flat=True))
    torch.manual_seed(seed)
    model = EfficientNetLite0(num_classes=len(label_codes)).eval()
    buffer = io.BytesIO()
    torch.save({"architecture": "efficientnet-lite0", "label_codes": label_codes, "state_dict": model.state_dict()}, buffer)
    version = ModelVersion(
        name=name, label_codes=label_codes, ood_threshold=-1e9, weights_sha256=hashlib.sha256(buffer.getvalue()).hexdigest()
    )
    version.weights.save(f"{name}.pt", ContentFile(buffer.getvalue()), save=False)
    version.save()
    return version
