"""Many inspectors reviewing photos at once through the API, counted so that a lost review shows.

Each inspector is a thread with its own API token. It picks a photo, reads its revision,
and posts a review with that revision, until the time is up. A review that returned 201
must exist in the database exactly once. A review that returned 409 (stale_revision) lost
a race for the photo and must leave nothing behind. Any other response is an error.

Used by tests/test_concurrency.py for a short run and by bench/concurrent_reviews.py for
a full minute.
"""
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

# A review chosen at random; "correct" sends two labels so that the many-to-many rows are
# part of what can be lost.
ACTIONS = [
    {"action": "confirm"},
    {"action": "correct", "labels": ["DEFECT", "DIRT"]},
    {"action": "irrelevant"},
]


@dataclass
class LoadTally:
    """Counts of the reviews the inspectors sent and of the responses by status."""

    tried: int = 0
    succeeded: int = 0
    conflicts: int = 0
    errors: list = field(default_factory=list)
    succeeded_by_photo: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def call(base_url, token, method, path, body=None, timeout=60):
    """Send one API request and return (status, decoded JSON body or raw text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base_url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw[:300].decode(errors="replace")


def inspect(base_url, token, photo_ids, deadline, tally, seed):
    """Review random photos of `photo_ids` until `deadline` (time.monotonic), counting into `tally`."""
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        photo_id = rng.choice(photo_ids)
        try:
            status, photo = call(base_url, token, "GET", f"/api/v1/photos/{photo_id}/")
            if status != 200:
                with tally.lock:
                    tally.errors.append(f"GET photo {photo_id}: {status} {photo}")
                continue
            body = {"photo": photo_id, "revision": photo["revision"], **rng.choice(ACTIONS)}
            with tally.lock:
                tally.tried += 1
            status, answer = call(base_url, token, "POST", "/api/v1/reviews/", body)
        except OSError as error:
            with tally.lock:
                tally.errors.append(f"photo {photo_id}: {type(error).__name__} {error}")
            continue

        with tally.lock:
            if status == 201:
                tally.succeeded += 1
                tally.succeeded_by_photo[photo_id] += 1
            elif status == 409 and isinstance(answer, dict) and answer.get("code") == "stale_revision":
                tally.conflicts += 1
            else:
                tally.errors.append(f"POST review of photo {photo_id}: {status} {answer}")


def run_inspectors(base_url, tokens, photo_ids, seconds, seed=0):
    """Let one thread per token review `photo_ids` for `seconds`; return the LoadTally."""
    tally = LoadTally()
    start = threading.Barrier(len(tokens) + 1)
    deadline_box = []

    def inspector(index, token):
        start.wait()
        inspect(base_url, token, photo_ids, deadline_box[0], tally, seed * 1000 + index)

    threads = [threading.Thread(target=inspector, args=(index, token), daemon=True) for index, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline_box.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - began
    return tally


def count_lost(tally, photo_ids):
    """Compare the tally with the database and return what does not add up, by kind of row.

    `photo_ids` must be fresh photos: revision 0, no reviews before the load. Each 201 must
    have stored one review, one inspector training label and one audit entry, and raised its
    photo's revision by one. A 409 must have stored nothing.
    """
    from audit.models import AuditEntry
    from inspection.models import Photo, Review, TrainingLabel

    reviews = Review.objects.filter(photo_id__in=photo_ids).count()
    training_labels = TrainingLabel.objects.filter(photo_id__in=photo_ids, source=TrainingLabel.Source.INSPECTOR).count()
    audit_entries = AuditEntry.objects.filter(
        action="photo.review", target_type="inspection.photo", target_id__in=[str(pk) for pk in photo_ids]
    ).count()
    revisions = dict(Photo.objects.filter(pk__in=photo_ids).values_list("pk", "revision"))
    wrong_revisions = [pk for pk, revision in revisions.items() if revision != tally.succeeded_by_photo[pk]]
    return {
        "reviews": reviews - tally.succeeded,
        "training_labels": training_labels - tally.succeeded,
        "audit_entries": audit_entries - tally.succeeded,
        "photos_with_wrong_revision": len(wrong_revisions),
    }
