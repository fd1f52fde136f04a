"""Photo-to-tensor transforms for training and inference."""
import torch
from torchvision.transforms import v2

from inference.ml.network import IMAGE_SIZE, INPUT_MEAN, INPUT_STD


def eval_transform():
    # The whole photo is squeezed to the input size rather than centre-cropped, because
    # a dent or a stain near the edge of a photo is exactly what must not be cut off.
    return v2.Compose(
        [
            v2.PILToTensor(),
            v2.Resize((IMAGE_SIZE, IMAGE_SIZE), antialias=True),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(INPUT_MEAN, INPUT_STD),
        ]
    )


def train_transform():
    """Augmentations that phone photos of cars really vary by.

    No vertical flip: a car, a seat or a dashboard is never upside down in a real upload.
    """
    return v2.Compose(
        [
            v2.PILToTensor(),
            v2.RandomResizedCrop((IMAGE_SIZE, IMAGE_SIZE), scale=(0.6, 1.0), ratio=(0.6, 1.6), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.RandomApply([v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03)], p=0.8),
            v2.RandomApply([v2.GaussianBlur(kernel_size=5, sigma=(0.1, 1.5))], p=0.2),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(INPUT_MEAN, INPUT_STD),
        ]
    )
