"""Decoding of uploaded photos with Pillow: validation, orientation, colour and thumbnails.

Phones send JPEG, PNG, HEIC and WebP with EXIF rotation, CMYK, alpha, 16-bit and palette
modes. Every consumer (upload, thumbnail, classifier) decodes through `open_photo` so that
each sees the same upright RGB picture, and every decoding failure is an `InvalidImage`.
"""
import io
import logging
import struct
import warnings
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

# Pillow's own bomb check is a warning at one limit and an error at twice that; every
# photo is checked against the configured limit before decoding instead (see `inspect`).
Image.MAX_IMAGE_PIXELS = None

EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic", "GIF": "gif", "BMP": "bmp", "TIFF": "tif"}
# Only these plugins may parse an upload: a file is never handed to the plugins of other
# formats (EPS would start Ghostscript, for one). MPO has no plugin of its own because
# the JPEG plugin opens it.
ACCEPTED_FORMATS = tuple(name for name in EXTENSIONS if name != "MPO")
BACKGROUND = (255, 255, 255)
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

# Exceptions of Pillow and pillow-heif on a malformed file. The plugins parse headers with
# `struct`, raise SyntaxError or EOFError on bad markers and TypeError on TIFF tags that
# give no size, and libheif reports its limits as RuntimeError.
DECODE_ERRORS = (OSError, ValueError, TypeError, SyntaxError, EOFError, RuntimeError, IndexError, struct.error)


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
    """Check that `data` contains a supported, complete image within the limits, and describe it.

    1. Check the byte size, then read only the header to get format and size, so a
       decompression bomb is rejected before any pixel is decoded.
    2. Decode fully once, exactly as the classifier will, so a truncated or corrupt file
       is rejected now, not in a worker.
    """
    if not data:
        raise InvalidImage(_("The file is empty."))
    if len(data) > settings.SOFAR_MAX_UPLOAD_BYTES:
        raise InvalidImage(
            _("The file is %(size)d bytes, over the limit of %(limit)d bytes.")
            % {"size": len(data), "limit": settings.SOFAR_MAX_UPLOAD_BYTES}
        )
    image = _open_checked(io.BytesIO(data))
    upright = _decode(image)
    return ImageInfo(image.format, upright.width, upright.height)


def open_photo(source, target_size=None):
    """Decode a photo as an upright 8-bit sRGB image, or raise `InvalidImage`.

    `target_size` lets JPEG decode at a reduced scale (Pillow's draft mode), which is
    several times faster for multi-megapixel phone photos; the result is still at least
    that size on both sides.
    """
    image = _open_checked(source)
    if target_size and image.format in {"JPEG", "MPO"}:
        image.draft("RGB", (target_size, target_size))
    return _decode(image)


def _open_checked(source):
    """Open `source` reading the header only, and reject it when over the pixel limit."""
    try:
        with warnings.catch_warnings():
            # Odd metadata (TIFF tags past the end, corrupt EXIF) is a warning, not a failure.
            warnings.simplefilter("ignore")
            image = Image.open(source, formats=ACCEPTED_FORMATS)
    except DECODE_ERRORS:
        raise InvalidImage(
            _("The file is not an image in a supported format (JPEG, PNG, HEIC, WebP, GIF, BMP or TIFF).")
        ) from None
    width, height = image.size
    if width * height > settings.SOFAR_MAX_IMAGE_PIXELS:
        raise InvalidImage(
            _("The image has %(pixels)d pixels, over the limit of %(limit)d pixels.")
            % {"pixels": width * height, "limit": settings.SOFAR_MAX_IMAGE_PIXELS}
        )
    return image


def _decode(image):
    """Decode the first frame of an opened image, turn it upright and convert it to RGB.

    Only the first frame is read: it is the photo of an animated GIF or WebP and the main
    picture of an MPO (iPhone HDR) file.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns about odd metadata (corrupt EXIF, oversized tags) and goes on;
            # a file it cannot read at all raises, and that is what counts.
            warnings.simplefilter("ignore")
            image.load()
            upright = ImageOps.exif_transpose(image)
    except DECODE_ERRORS as error:
        logger.info("rejected an image that does not decode: %s", error)
        raise InvalidImage(_("The image is truncated or corrupt and cannot be decoded.")) from None
    try:
        return to_rgb(upright)
    except DECODE_ERRORS as error:
        logger.info("rejected an image in colour mode %s: %s", upright.mode, error)
        raise InvalidImage(
            _("The image's colour mode %(mode)s cannot be converted to RGB.") % {"mode": upright.mode}
        ) from None


def to_rgb(image):
    """Convert any Pillow mode to 8-bit sRGB without inverting colours or leaking hidden pixels."""
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
    if image.mode in {"RGB", "CMYK"} and image.info.get("icc_profile"):
        return _apply_icc_profile(image)
    return image.convert("RGB")


def _apply_icc_profile(image):
    """Convert with the embedded colour profile: CMYK print profiles and Display P3 shift
    colours visibly when their numbers are read as plain sRGB."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        return ImageCms.profileToProfile(image, profile, SRGB_PROFILE, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        logger.info("ignored an unreadable colour profile: %s", error)
        return image.convert("RGB")


def make_thumbnail(source, size):
    image = open_photo(source, target_size=size)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85, optimize=True)
    return output.getvalue()
