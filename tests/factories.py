"""Small builders for test data: generated JPEGs, photos, model versions and predictions."""
import io
from datetime import datetime, time

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from inference.models import ModelVersion, Prediction
from inspection.models import Label
from inspection.services.photos import Upload, store_photo


def jpeg_bytes(color=(120, 130, 140), size=(64, 48), seed=0):
    """Return a small JPEG; `seed` draws a distinct mark so every call can differ in content."""
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle([seed % size[0], 0, seed % size[0] + 3, 3], fill=(seed * 37 % 255, 0, 0))
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=90)
    return output.getvalue()


def document_bytes():
    """Return a photo of a typed paper document: black text lines on white, drawn with Pillow."""
    image = Image.new("RGB", (800, 1100), "white")
    draw = ImageDraw.Draw(image)
    draw.text((60, 50), "INVOICE No. 2026-1204", fill="black")
    for line in range(40):
        draw.text((60, 110 + line * 24), f"{line + 1:02d}. Lorem ipsum dolor sit amet, consectetur {line * 7}", fill="black")
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=92)
    return output.getvalue()


def noon(day):
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def make_photo(day=None, plate="", seed=0, **fields):
    upload = Upload(data=jpeg_bytes(seed=seed), original_name=f"photo-{seed}.jpg", plate=plate, uploaded_at=noon(day) if day else None, **fields)
    photo, _ = store_photo(upload)
    return photo


def make_version(name="v-test", label_codes=("NORMAL", "DEFECT", "DIRT"), threshold=1.0, active=True):
    version = ModelVersion.objects.create(name=name, label_codes=list(label_codes), ood_threshold=threshold)
    version.weights.save(f"{name}.pt", ContentFile(b"not used"), save=True)
    if active:
        version.activate()
    return version


def make_prediction(photo, version, top1, p1, top2, p2, max_logit=5.0):
    labels = Label.objects.in_bulk([top1, top2], field_name="code")
    return Prediction.objects.create(
        photo=photo,
        model_version=version,
        top1_label=labels[top1],
        top1_probability=p1,
        top2_label=labels[top2],
        top2_probability=p2,
        max_logit=max_logit,
        is_ood=max_logit < version.ood_threshold,
    )
