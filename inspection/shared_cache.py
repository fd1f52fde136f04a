"""Responses that many users read alike, kept in the shared cache until the data under them changes.

A cached response is stored under generation numbers that the cache itself keeps. One
covers what every page shows: labels, cars, users, model versions and work orders. One per
upload day covers the photos of that day with their predictions, reviews and training
labels, and one covers lists not restricted to a day. A write bumps the numbers it touches,
so entries built before it are never read again and expire on their own.

Model signals bump on every save and delete of the models below, once at once and once
after the transaction commits. The first bump lets a test's own transaction see its
writes. The second matters in production, because a request that read the data before the
commit may have stored it under the numbers of the first bump. Writes that bypass signals
(bulk inserts, queryset updates) call `invalidate_days` or `invalidate_all` themselves.

Every web process and worker must share the cache (Redis), or a worker's write could not
reach the web processes. So caching is off unless SOFAR_SHARED_CACHE_SECONDS is above 0,
which the settings do only when SOFAR_CACHE_URL names a Redis server.
"""
import hashlib
import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

logger = logging.getLogger(__name__)

ALL = "sofar:generation:all"
UNDATED = "sofar:generation:undated"
# A request that finds another one building the same response waits up to this long for it.
BUILD_WAIT_SECONDS = 2
BUILD_LOCK_SECONDS = 30


def day_key(day):
    return f"sofar:generation:day:{day.isoformat()}"


def enabled():
    return settings.SOFAR_SHARED_CACHE_SECONDS > 0


def _bump(keys):
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:
            # The key is missing or was evicted: restart from the clock, which is above any number it had.
            cache.set(key, time.time_ns(), timeout=None)


def _bump_now_and_after_commit(keys):
    if not enabled():
        return
    keys = list(keys)
    try:
        _bump(keys)
    except Exception:
        logger.warning("could not invalidate the shared cache; entries expire after %s s", settings.SOFAR_SHARED_CACHE_SECONDS, exc_info=True)
        return
    transaction.on_commit(lambda: _bump_after_commit(keys))


def _bump_after_commit(keys):
    try:
        _bump(keys)
    except Exception:
        logger.warning("could not invalidate the shared cache after a commit", exc_info=True)


def invalidate_days(days):
    """Invalidate what was cached about the photos uploaded on `days` (dates or aware datetimes)."""
    dates = {timezone.localdate(value) if hasattr(value, "hour") else value for value in days if value is not None}
    if dates:
        _bump_now_and_after_commit([UNDATED] + [day_key(day) for day in sorted(dates)])


def invalidate_all():
    """Invalidate every cached response."""
    _bump_now_and_after_commit([ALL])


def cached(parts, build, day=None):
    """Return `build()`, from the shared cache when it holds a result built since the last write.

    `parts` names the response (path, language, permissions, ...); `day` is the upload day
    it is restricted to, or None for data of any day. A cache that fails is skipped.
    """
    if not enabled():
        return build()
    generation_keys = [ALL, day_key(day) if day else UNDATED]
    try:
        generations = cache.get_many(generation_keys)
        missing = {key: time.time_ns() for key in generation_keys if key not in generations}
        for key, value in missing.items():
            # add() keeps a number another process set meanwhile; read back what won.
            if not cache.add(key, value, timeout=None):
                value = cache.get(key, value)
            generations[key] = value
        digest = hashlib.sha256(repr((tuple(generations[key] for key in generation_keys), parts)).encode()).hexdigest()
        key = f"sofar:response:{digest}"
        value = cache.get(key)
    except Exception:
        logger.warning("the shared cache failed; building the response without it", exc_info=True)
        return build()
    return value if value is not None else _build_once(key, build)


def _build_once(key, build):
    """Build the response of `key` in one request while the others asking for it wait for it.

    After a write, every web process misses the same entry at once; building it in all of
    them would multiply the work by the number of processes, just when it is needed fast.
    """
    lock = f"{key}:building"
    try:
        leader = cache.add(lock, 1, timeout=BUILD_LOCK_SECONDS)
    except Exception:
        leader = True
    if not leader:
        deadline = time.monotonic() + BUILD_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.01)
            value = _get_quietly(key)
            if value is not None:
                return value
        # The builder is slow or gone: build here rather than keep the user waiting.
    try:
        value = build()
        try:
            cache.set(key, value, settings.SOFAR_SHARED_CACHE_SECONDS)
        except Exception:
            logger.warning("could not store a response in the shared cache", exc_info=True)
    finally:
        if leader:
            _delete_quietly(lock)
    return value


def _get_quietly(key):
    try:
        return cache.get(key)
    except Exception:
        return None


def _delete_quietly(key):
    try:
        cache.delete(key)
    except Exception:
        logger.warning("could not release the build lock %s; it expires in %s s", key, BUILD_LOCK_SECONDS)


def _photo_day_of(instance):
    """Return the upload time of the photo `instance` is or belongs to, without a query when it is at hand."""
    if hasattr(instance, "photo_uploaded_at") and instance.photo_uploaded_at:
        return instance.photo_uploaded_at
    if hasattr(instance, "uploaded_at"):
        return instance.uploaded_at
    photo = instance.photo
    return photo.uploaded_at if photo else None


def _photo_data_changed(sender, instance, **kwargs):
    try:
        uploaded_at = _photo_day_of(instance)
    except Exception:
        # The photo is gone (a cascade deletes it first): nothing of its day is known.
        invalidate_all()
        return
    invalidate_days([uploaded_at])


def _shared_data_changed(sender, **kwargs):
    invalidate_all()


def _relation_changed(handler):
    """Wrap a handler for m2m_changed, which also fires before each change and on either side of the relation."""

    def on_change(sender, instance, action, **kwargs):
        if action.startswith("post_"):
            handler(sender, instance=instance)

    return on_change


def connect_signals():
    """Bump the generations on every write to what the cached responses show."""
    from inference.models import ModelVersion, Prediction
    from inspection.models import Car, Label, Photo, Review, TrainingLabel, WorkOrder

    photo_models = [Photo, Prediction, Review, TrainingLabel]
    shared_models = [Car, Label, WorkOrder, ModelVersion, get_user_model()]
    for model in photo_models:
        post_save.connect(_photo_data_changed, sender=model, dispatch_uid=f"shared-cache-save-{model._meta.label}")
        post_delete.connect(_photo_data_changed, sender=model, dispatch_uid=f"shared-cache-delete-{model._meta.label}")
    for model in shared_models:
        post_save.connect(_shared_data_changed, sender=model, dispatch_uid=f"shared-cache-save-{model._meta.label}")
        post_delete.connect(_shared_data_changed, sender=model, dispatch_uid=f"shared-cache-delete-{model._meta.label}")
    for model in photo_models + shared_models:
        handler = _relation_changed(_photo_data_changed if model in photo_models else _shared_data_changed)
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            # weak=False: the wrapper has no other reference and would be collected at once.
            m2m_changed.connect(handler, sender=through, weak=False, dispatch_uid=f"shared-cache-m2m-{through._meta.label}")
