"""Storing uploaded photos: deduplicated by content, validated before anything is kept."""
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from inspection import imaging
from inspection.models import Car, Photo

logger = logging.getLogger(__name__)

MAX_ORIGINAL_NAME = 255
MAX_EXTENSION = 10


@dataclass(frozen=True)
class Upload:
    """One photo as a client sent it, before validation."""

    data: bytes
    original_name: str = ""
    plate: str = ""
    reservation_id: str = ""
    event: str = Photo.Event.OTHER
    taken_at: object = None
    uploaded_at: object = None


def safe_original_name(name):
    """Reduce a client's file name to a label for people: never a path, at most 255 UTF-8 bytes.

    Only the last path component is kept; bytes that are not UTF-8 (and the surrogates
    Python decodes them to) become U+FFFD, control characters are dropped, and a name too
    long is cut in its stem so that the extension stays readable.
    """
    if isinstance(name, bytes):
        name = name.decode("utf-8", errors="replace")
    name = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(_printable(ch) for ch in name).strip()
    if not name.strip("."):
        return ""
    if len(name.encode("utf-8")) <= MAX_ORIGINAL_NAME:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    room = MAX_ORIGINAL_NAME - len(suffix.encode("utf-8"))
    return stem.encode("utf-8")[:room].decode("utf-8", errors="ignore") + suffix


def _printable(ch):
    if "\ud800" <= ch <= "\udfff":
        return "\ufffd"
    return ch if ch.isprintable() else ""


def store_photo(upload):
    """Store `upload` as a photo, or return the photo that already has the same bytes.

    Returns (photo, created). Raises `imaging.InvalidImage` with a translated message and
    stores nothing when the file is not a usable image.
    """
    sha256 = hashlib.sha256(upload.data).hexdigest()
    existing = Photo.objects.filter(sha256=sha256).first()
    if existing:
        return existing, False

    info = imaging.inspect(upload.data)
    thumbnail = imaging.make_thumbnail(ContentFile(upload.data), settings.SOFAR_THUMBNAIL_SIZE)
    photo = Photo(
        reservation_id=upload.reservation_id,
        event=upload.event or Photo.Event.OTHER,
        taken_at=upload.taken_at,
        uploaded_at=upload.uploaded_at or timezone.now(),
        file_extension=info.extension,
        original_name=safe_original_name(upload.original_name),
        sha256=sha256,
        size_bytes=len(upload.data),
        width=info.width,
        height=info.height,
    )
    try:
        with transaction.atomic():
            if upload.plate:
                photo.car, _ = Car.objects.get_or_create(plate=upload.plate.strip())
            photo.file.save("upload", ContentFile(upload.data), save=False)
            photo.thumbnail.save("thumbnail", ContentFile(thumbnail), save=False)
            photo.save()
    except IntegrityError:
        # Another request stored the same bytes between our check and our insert.
        _delete_files(photo)
        return Photo.objects.get(sha256=sha256), False
    except Exception:
        _delete_files(photo)
        raise
    logger.debug("stored photo %s (%d bytes, %dx%d)", photo.pk, photo.size_bytes, photo.width, photo.height)
    return photo, True


def _delete_files(photo):
    for field in (photo.file, photo.thumbnail):
        if field.name:
            field.storage.delete(field.name)
