"""Changing which model version classifies, and its OOD threshold, with an audit entry each."""
import logging
import math

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record
from inference.models import ModelVersion

logger = logging.getLogger(__name__)


class InvalidThreshold(ValueError):
    """An OOD threshold that is not a finite number; the message is translated."""


def activate_version(version, user):
    """Make `version` the one that classifies new photos, recording who switched from which.

    Runs already started keep the version they were started with: each run's batches
    read the version from the run, so no photo of a run is classified by two versions.
    """
    with transaction.atomic():
        previous = ModelVersion.objects.select_for_update().filter(is_active=True).first()
        version.activate()
        record(
            user,
            "model_version.activate",
            version,
            before={"active_version": previous.name if previous else None},
            after={"active_version": version.name},
        )
    logger.info("model version %s activated by user %s (was %s)", version.name, getattr(user, "pk", None), previous)
    return version


def set_threshold(version, value, user):
    """Set the OOD threshold (a maximum logit) of `version`; it applies to later classifications.

    Raises InvalidThreshold when `value` is not a finite number.
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidThreshold(_("The OOD threshold must be a number, not %(value)r.") % {"value": value}) from None
    if not math.isfinite(value):
        raise InvalidThreshold(_("The OOD threshold must be a finite number, not %(value)s.") % {"value": value})

    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        before = locked.ood_threshold
        locked.ood_threshold = value
        locked.save(update_fields=["ood_threshold"])
        record(user, "model_version.set_threshold", locked, before={"ood_threshold": before}, after={"ood_threshold": value})
    version.ood_threshold = value
    logger.info("OOD threshold of %s set from %s to %s by user %s", version.name, before, value, getattr(user, "pk", None))
    return version
