"""ONNX Runtime, the CPU backend of workers, gives the same top-2 labels as eager PyTorch."""
import pytest
import torch

from inference.ml.network import IMAGE_SIZE
from inference.ml.transforms import eval_transform
from inspection.imaging import open_photo
from tests.conftest import shared_data_path
from tests.weights import save_random_version


@pytest.mark.shared_data
@pytest.mark.django_db
def test_onnx_and_torch_agree_on_top2_labels(settings, tmp_path):
    from inference.ml.predictor import Classifier

    settings.SOFAR_WEIGHTS_CACHE_DIR = tmp_path / "weights"
    folder = shared_data_path("sofar", "CAR_DEFECT_RECOGNITION")
    transform = eval_transform()
    tensors = []
    for path in sorted(folder.rglob("*.jpg")):
        with path.open("rb") as handle:
            tensors.append(transform(open_photo(handle, target_size=IMAGE_SIZE)))
    batch = torch.stack(tensors)
    version = save_random_version("backends", seed=3)

    onnx_logits = Classifier(version, backend="onnx").logits(batch)
    torch_logits = Classifier(version, backend="torch").logits(batch)

    assert len(batch) == 10
    assert (onnx_logits.argsort(axis=1)[:, -2:] == torch_logits.argsort(axis=1)[:, -2:]).all()
    assert abs(onnx_logits - torch_logits).max() < 1e-3
    assert (settings.SOFAR_WEIGHTS_CACHE_DIR / f"{version.weights_sha256}.onnx").exists()
