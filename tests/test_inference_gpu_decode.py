"""The GPU decoding path turns photos upright and checks limits as Pillow's path does.

nvJPEG itself needs a GPU; what runs around it (header, orientation, resize) is checked
here on the CPU.
"""
import io

import pytest
import torch
from PIL import Image, ImageOps
from torchvision.transforms.v2.functional import pil_to_tensor

from inference.ml.gpu_decode import apply_orientation, normalize, read_jpeg_header
from inference.ml.transforms import eval_transform
from inspection.imaging import InvalidImage
from tests.conftest import shared_data_path


def asymmetric_image():
    image = Image.new("RGB", (3, 2))
    for x in range(3):
        for y in range(2):
            image.putpixel((x, y), (40 * x, 100 * y, 10 * x + 50 * y))
    return image


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(orientation):
    image = asymmetric_image()
    image.getexif()[0x0112] = orientation

    expected = pil_to_tensor(ImageOps.exif_transpose(image))

    assert torch.equal(apply_orientation(pil_to_tensor(image), orientation), expected)


@pytest.mark.shared_data
@pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")
@pytest.mark.parametrize("name", ["B01_exif_orient6.jpg", "B01_exif_orient8.jpg"])
def test_jpeg_header_orientation_turns_photo_upright(name):
    from torchvision.io import decode_jpeg

    data = (shared_data_path("badinputs") / name).read_bytes()
    encoded = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    jpeg = read_jpeg_header(data)

    upright = apply_orientation(decode_jpeg(encoded), jpeg.orientation)

    assert jpeg.orientation in {6, 8}
    assert torch.equal(upright, decode_jpeg(encoded, apply_exif_orientation=True))
    assert upright.shape[1:] == (64, 48)


def test_jpeg_header_rejects_too_many_pixels(settings):
    output = io.BytesIO()
    Image.new("RGB", (200, 100)).save(output, format="JPEG")
    settings.SOFAR_MAX_IMAGE_PIXELS = 10_000

    with pytest.raises(InvalidImage, match="20000"):
        read_jpeg_header(output.getvalue())


def test_non_jpeg_and_cmyk_go_to_pillow():
    png, cmyk = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    Image.new("CMYK", (8, 8)).save(cmyk, format="JPEG")

    assert read_jpeg_header(png.getvalue()) is None
    assert read_jpeg_header(cmyk.getvalue()) is None


def test_gpu_normalize_matches_eval_transform_closely():
    image = Image.radial_gradient("L").convert("RGB").resize((640, 480))

    expected = eval_transform()(image)
    actual = normalize(pil_to_tensor(image))

    assert actual.shape == expected.shape
    assert (actual - expected).abs().max() < 0.05
