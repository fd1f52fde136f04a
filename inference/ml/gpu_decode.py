"""JPEG decoding on the GPU (nvJPEG through torchvision) for GPU workers.

A decoding thread reads the file and its header on the CPU: size for the pixel limit,
EXIF orientation, which nvJPEG ignores. The main thread decodes a chunk of JPEGs on the
GPU in one call, turns each upright, resizes and normalizes it there, as the CPU path's
eval transform does.
"""
import io
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image

from inference.ml.network import IMAGE_SIZE, INPUT_MEAN, INPUT_STD
from inspection.imaging import InvalidImage

EXIF_ORIENTATION = 0x0112
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass
class EncodedJpeg:
    """A JPEG read from storage, decoded later on the GPU."""

    data: bytes
    orientation: int


def read_jpeg_header(data):
    """Return an EncodedJpeg when `data` is a baseline RGB or greyscale JPEG, else None.

    CMYK and other modes go back to Pillow, which converts their colours correctly.
    Raises InvalidImage when the header names more pixels than SOFAR_MAX_IMAGE_PIXELS.
    """
    if not data.startswith(JPEG_MAGIC):
        return None
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.UnidentifiedImageError, OSError, ValueError):
        return None
    width, height = image.size
    if width * height > settings.SOFAR_MAX_IMAGE_PIXELS:
        raise InvalidImage(
            _("The image has %(pixels)d pixels, over the limit of %(limit)d pixels.")
            % {"pixels": width * height, "limit": settings.SOFAR_MAX_IMAGE_PIXELS}
        )
    if image.format != "JPEG" or image.mode not in {"RGB", "L"}:
        return None
    return EncodedJpeg(data, image.getexif().get(EXIF_ORIENTATION, 1))


def apply_orientation(image, orientation):
    """Turn a (C, H, W) tensor upright for an EXIF orientation, as Pillow's exif_transpose does."""
    if orientation == 2:
        return image.flip(-1)
    if orientation == 3:
        return image.flip(-1).flip(-2)
    if orientation == 4:
        return image.flip(-2)
    if orientation == 5:
        return image.transpose(-2, -1)
    if orientation == 6:
        return torch.rot90(image, -1, dims=(-2, -1))
    if orientation == 7:
        return image.transpose(-2, -1).flip(-1).flip(-2)
    if orientation == 8:
        return torch.rot90(image, 1, dims=(-2, -1))
    return image


def normalize(image):
    """Resize a uint8 (3, H, W) tensor to the model's input and normalize it, on its device."""
    pixels = image.unsqueeze(0).float()
    pixels = F.interpolate(pixels, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(INPUT_MEAN, device=image.device).view(1, 3, 1, 1) * 255
    std = torch.tensor(INPUT_STD, device=image.device).view(1, 3, 1, 1) * 255
    return ((pixels.clamp(0, 255) - mean) / std)[0]


def decode_on_gpu(jpegs, device):
    """Decode EncodedJpegs in one nvJPEG call; return normalized (3, IMAGE_SIZE, IMAGE_SIZE) tensors.

    Raises RuntimeError when nvJPEG rejects any of them (it returns no partial results);
    the caller then decodes that chunk with Pillow.
    """
    from torchvision.io import ImageReadMode, decode_jpeg

    encoded = [torch.frombuffer(bytearray(jpeg.data), dtype=torch.uint8) for jpeg in jpegs]
    with warnings.catch_warnings():
        # torchvision 0.29 marks its decoders deprecated in favour of TorchCodec, which
        # this project does not install; decode_jpeg still works.
        warnings.simplefilter("ignore", DeprecationWarning)
        images = decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device)
    return [normalize(apply_orientation(image, jpeg.orientation)) for image, jpeg in zip(images, jpegs)]
