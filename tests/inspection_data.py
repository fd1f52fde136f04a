"""Builders of screen and service test data with the ORM: users in roles, photos, predictions."""
import importlib
import io
import itertools
from datetime import datetime, time

from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from PIL import Image

from inference.models import ModelVersion, Prediction
from inspection.models import Label
from inspection.roles import ROLE_PERMISSIONS
from inspection.services.photos import Upload, store_photo

_colours = itertools.count(1)


def role_group(role):
    """Return the group of `role`, recreating it when a transactional test flushed it."""
    group, created = Group.objects.get_or_create(name=role)
    if created:
        for name in ROLE_PERMISSIONS[role]:
            app_label, codename = name.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


def restore_label_scheme():
    """Recreate the seeded labels, which a transactional test's flush removes."""
    seed_labels = importlib.import_module("inspection.migrations.0002_seed_labels").seed_labels
    seed_labels(apps, None)


def user_in_role(username, role=None, **extra):
    user = User.objects.create_user(username, password="secret-pass-1", **extra)
    if role:
        user.groups.add(role_group(role))
    return user


def jpeg_bytes(size=(64, 48)):
    """Return a small JPEG of a colour no other call returns, so photos never deduplicate."""
    number = next(_colours)
    colour = (number * 37 % 256, number * 91 % 256, number * 53 % 256)
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def at_noon(day):
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def make_photo(day=None, plate="12가3456", reservation_id="R-1", name="front.jpg"):
    day = day or timezone.localdate()
    photo, _ = store_photo(
        Upload(data=jpeg_bytes(), original_name=name, plate=plate, reservation_id=reservation_id, uploaded_at=at_noon(day))
    )
    return photo


def make_version(name="v1", active=True, ood_threshold=3.0, **fields):
    codes = list(Label.objects.values_list("code", flat=True))
    version = ModelVersion.objects.create(
        name=name, label_codes=codes, weights=f"models/{name}.pt", ood_threshold=ood_threshold, **fields
    )
    if active:
        version.activate()
    return version


def predict(photo, version, top1="DIRT", p1=0.8, top2="NORMAL", p2=0.15, is_ood=False, max_logit=6.0):
    labels = Label.objects.in_bulk([top1, top2], field_name="code")
    return Prediction.objects.create(
        photo=photo, model_version=version,
        top1_label=labels[top1], top1_probability=p1,
        top2_label=labels[top2], top2_probability=p2,
        max_logit=max_logit, is_ood=is_ood,
    )


def label(code):
    return Label.objects.get(code=code)
