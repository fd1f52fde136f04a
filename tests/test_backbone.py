"""The ImageNet backbone loads from the installed package and really recognises images."""
import numpy as np
import pytest
import torch
from PIL import Image

from inference.ml.network import EfficientNetLite0, build_classifier, load_imagenet_model
from inference.ml.transforms import eval_transform

IMAGENET_CAT_CLASSES = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def test_pretrained_backbone_ranks_cat_among_cat_classes():
    skimage_data = pytest.importorskip("skimage.data")
    model = load_imagenet_model()
    image = Image.fromarray(skimage_data.chelsea())

    with torch.inference_mode():
        logits = model(eval_transform()(image).unsqueeze(0))

    top3 = set(logits.topk(3).indices[0].tolist())
    assert top3 & IMAGENET_CAT_CLASSES, f"top-3 classes {sorted(top3)} hold no cat"


def test_classifier_keeps_backbone_and_sizes_new_head():
    reference = load_imagenet_model()
    model = build_classifier(num_classes=10)

    assert model._fc.out_features == 10
    assert torch.equal(model._conv_stem.weight, reference._conv_stem.weight)
    assert torch.equal(model._blocks[15]._project_conv.weight, reference._blocks[15]._project_conv.weight)


def test_forward_pass_on_odd_input_size_has_no_nans():
    model = EfficientNetLite0(num_classes=3).eval()
    batch = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 3, 200, 300)).astype(np.float32))

    with torch.inference_mode():
        logits = model(batch)

    assert logits.shape == (2, 3)
    assert torch.isfinite(logits).all()
