"""Responses that many users read alike, kept in the shared cache until the data under them changes.

A cached response is stored under generation numbers that the cache itself keeps. One
covers what every page shows: labels, cars, users and model versions. One per
upload day covers the photos of that day with their predictions, reviews and training
labels, and one covers lists not restricted to a day. A write bumps the numbers it touches,
so entries built before it are never read again and expire on their own.

Model signals bump on every save and delete of the models below, once the transaction
commits: a request that read the data before the commit stored it under the old numbers,
which no request reads after the bump. Writes that bypass signals (bulk inserts, queryset
updates) call `invalidate_days` or `invalidate_all` themselves.

Every web process and worker must share the cache (Redis), or a worker's write could not
reach the web processes. So caching is off unless SOFAR_SHARED_CACHE_SECONDS is above 0,
which the settings do only when SOFAR_CACHE_URL names a Redis server.
"""
import functools
import hashlib
import logging
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

logger = logging.getLogger(__name__)

ALL = "sofar:generation:all"
UNDATED = "sofar:generation:undated"
# A generation number outlives every response stored under it. A key that expired or was
# evicted restarts at a random 62-bit number, so no live response was stored under it.
GENERATION_SECONDS = 7 * 24 * 3600
# A request that finds another one building the same response waits up to this long for it.
BUILD_WAIT_SECONDS = 2
BUILD_LOCK_SECONDS = 30
# After a cache error this process leaves the cache alone for this long, so a Redis that
# hangs costs one socket timeout, not one per cache call.
RETRY_AFTER_SECONDS = 5
# The code files whose output is cached: a release that changes them starts new entries.
RELEASE_FILES = ("templates/**/*.html", "locale/**/*.po", "*/locale/**/*.po", "inspection/**/*.py", "api/**/*.py", "inference/**/*.py")

_unavailable_until = 0.0


def day_key(day):
    return f"sofar:generation:day:{day.isoformat()}"


def enabled():
    return settings.SOFAR_SHARED_CACHE_SECONDS > 0 and time.monotonic() >= _unavailable_until


def _failed(message):
    global _unavailable_until
    _unavailable_until = time.monotonic() + RETRY_AFTER_SECONDS
    logger.warning("%s; the shared cache is skipped for %s s", message, RETRY_AFTER_SECONDS, exc_info=True)


@functools.cache
def release_digest():
    """Return a digest of the templates, translations and code that render cached responses.

    Every process of one release computes the same digest, so they share entries, while
    the processes of a release being rolled out never serve pages of the previous one.
    """
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for path in sorted({path for pattern in RELEASE_FILES for path in root.glob(pattern)}):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _bump(keys):
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, secrets.randbits(62), timeout=GENERATION_SECONDS)


def _bump_after_commit(keys):
    if settings.SOFAR_SHARED_CACHE_SECONDS <= 0:
        return
    keys = list(keys)
    transaction.on_commit(lambda: _bump_now(keys))


def _bump_now(keys):
    if not enabled():
        return
    try:
        _bump(keys)
    except Exception:
        _failed("could not invalidate the shared cache after a commit")


def invalidate_days(days):
    """Invalidate what was cached about the photos uploaded on `days` (dates or aware datetimes)."""
    dates = {timezone.localdate(value) if hasattr(value, "hour") else value for value in days if value is not None}
    if dates:
        _bump_after_commit([UNDATED] + [day_key(day) for day in sorted(dates)])


def invalidate_all():
    """Invalidate every cached response."""
    _bump_after_commit([ALL])


def cached(parts, build, day=None):
    """Return `build()`, from the shared cache when it contains a result built since the last write.

    `parts` names the response (path, language, permissions, ...); `day` is the upload day
    it is restricted to, or None for data of any day. A cache that fails is skipped.
    """
    if not enabled():
        return build()
    generation_keys = [ALL, day_key(day) if day else UNDATED]
    try:
        generations = cache.get_many(generation_keys)
        for key in generation_keys:
            if key not in generations:
                # add() keeps a number another process set meanwhile; read back what won.
                cache.add(key, secrets.randbits(62), timeout=GENERATION_SECONDS)
                generations[key] = cache.get(key)
        numbers = tuple(generations[key] for key in generation_keys)
        digest = hashlib.sha256(repr((release_digest(), numbers, parts)).encode()).hexdigest()
        key = f"sofar:response:{digest}"
        value = cache.get(key)
    except Exception:
        _failed("the shared cache failed; building the response without it")
        return build()
    return value if value is not None else _build_once(key, build)


def _build_once(key, build):
    """Build the response of `key` in one request while the others asking for it wait for it.

    After a write, every web process misses the same entry at once. Building it in all of
    them would multiply the work by the number of processes, just when it is needed fast.
    """
    lock = f"{key}:building"
    try:
        leader = cache.add(lock, 1, timeout=BUILD_LOCK_SECONDS)
    except Exception:
        leader = True
    if not leader:
        value = _wait_for(key, lock)
        if value is not None:
            return value
        # The builder failed, is slow or is gone: build here rather than keep the user waiting.
    try:
        value = build()
        try:
            cache.set(key, value, settings.SOFAR_SHARED_CACHE_SECONDS)
        except Exception:
            _failed("could not store a response in the shared cache")
    finally:
        if leader:
            _delete_quietly(lock)
    return value


def _wait_for(key, lock):
    """Return the value another request is building under `key`, or None when its lock goes without one."""
    deadline = time.monotonic() + BUILD_WAIT_SECONDS
    pause = 0.005
    while time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
        try:
            found = cache.get_many([key, lock])
        except Exception:
            return None
        if key in found:
            return found[key]
        if lock not in found:
            # Released without a value: the build raised (an invalid filter, say).
            return None
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
    update_fields = kwargs.get("update_fields")
    # Each log-in saves the user's last_login, which no cached response shows.
    if sender is get_user_model() and update_fields and set(update_fields) <= {"last_login"}:
        return
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
    from inspection.models import Car, Label, Photo, Review, TrainingLabel

    photo_models = [Photo, Prediction, Review, TrainingLabel]
    # Work orders are not among them: the queue page adds them per request, and no cached list shows them.
    shared_models = [Car, Label, ModelVersion, get_user_model()]
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
