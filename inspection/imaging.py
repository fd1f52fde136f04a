"""Decoding of uploaded photos with Pillow: validation, orientation, colour and thumbnails.

Phones send JPEG, PNG, HEIC and WebP with EXIF rotation, CMYK, alpha, 16-bit and palette
modes. Every consumer (upload, thumbnail, classifier) decodes through `open_photo` so that
each sees the same upright RGB picture.
"""
import io
import logging
import warnings
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

# Pillow's own bomb check is a warning at one limit and an error at twice that; every
# photo is checked against the configured limit before decoding instead (see `inspect`).
Image.MAX_IMAGE_PIXELS = None

EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic", "GIF": "gif", "BMP": "bmp", "TIFF": "tif"}
BACKGROUND = (255, 255, 255)


class InvalidImage(ValueError):
    """A file that is not a usable photo; the message says why, in the user's language."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def extension(self):
        return EXTENSIONS[self.format]


def inspect(data):
    """Check that `data` holds a supported, complete image within the limits, and describe it.

    1. Read only the header to get format and size, so a decompression bomb is rejected
       before any pixel is decoded.
    2. Decode fully once, so a truncated or corrupt file is rejected now, not in a worker.
    """
    if not data:
        raise InvalidImage(_("The file is empty."))
    if len(data) > settings.SOFAR_MAX_UPLOAD_BYTES:
        raise InvalidImage(
            _("The file is %(size)d bytes, over the limit of %(limit)d bytes.")
            % {"size": len(data), "limit": settings.SOFAR_MAX_UPLOAD_BYTES}
        )
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.UnidentifiedImageError, OSError, ValueError):
        raise InvalidImage(_("The file is not an image in a supported format (JPEG, PNG, HEIC, WebP).")) from None
    if image.format not in EXTENSIONS:
        raise InvalidImage(_("Image format %(format)s is not supported.") % {"format": image.format})
    width, height = image.size
    if width * height > settings.SOFAR_MAX_IMAGE_PIXELS:
        raise InvalidImage(
            _("The image has %(pixels)d pixels, over the limit of %(limit)d pixels.")
            % {"pixels": width * height, "limit": settings.SOFAR_MAX_IMAGE_PIXELS}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except (OSError, ValueError, SyntaxError) as error:
        logger.info("rejected an image that does not decode: %s", error)
        raise InvalidImage(_("The image is truncated or corrupt and cannot be decoded.")) from None
    upright = ImageOps.exif_transpose(image)
    return ImageInfo(image.format, upright.width, upright.height)


def open_photo(source, target_size=None):
    """Decode a photo as an upright 8-bit RGB image.

    `target_size` lets JPEG decode at a reduced scale (Pillow's draft mode), which is
    several times faster for multi-megapixel phone photos; the result is still at least
    that size on both sides.
    """
    try:
        image = Image.open(source)
        width, height = image.size
        if width * height > settings.SOFAR_MAX_IMAGE_PIXELS:
            raise InvalidImage(_("The image has %(pixels)d pixels, over the limit of %(limit)d pixels.") % {"pixels": width * height, "limit": settings.SOFAR_MAX_IMAGE_PIXELS})
        if target_size and image.format == "JPEG":
            image.draft("RGB", (target_size, target_size))
        image.load()
    except InvalidImage:
        raise
    except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InvalidImage(_("The image is truncated or corrupt and cannot be decoded.")) from error
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    image = ImageOps.exif_transpose(image)
    return to_rgb(image)


def to_rgb(image):
    """Convert any Pillow mode to 8-bit RGB without inverting colours or leaking hidden pixels."""
    if image.mode in {"I;16", "I;16B", "I;16L", "I"}:
        # 16-bit grey: Pillow's plain convert("L") clips at 255, which turns a ramp white.
        image = image.point(lambda value: value / 256).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in {"RGBA", "LA", "PA"}:
        # Transparent pixels keep whatever colour the encoder left: composite them away.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def make_thumbnail(source, size):
    image = open_photo(source, target_size=size)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85, optimize=True)
    return output.getvalue()
