"""50 inspectors reviewing photos at once for a minute, against gunicorn on 127.0.0.1.

Creates fresh photos with predictions and one API token per inspector, then starts
gunicorn with the production settings. Each inspector thread reads a random photo and
posts a review with the revision it read, until the time is up (tests/review_load.py).
Then it checks that each review that returned 201 is stored exactly once (review,
training label, audit entry, one revision step of its photo). A 409 must store nothing.
Exits 1 on any error or lost review.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofar_bench python bench/concurrent_reviews.py \
      [--inspectors 50] [--photos 200] [--seconds 60] [--workers 4] [--threads 4] [--port 8602]
"""
import argparse
import io
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from common import REPO_ROOT, setup_django
from web_load import wait_for_port


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inspectors", type=int, default=50, help="concurrent inspectors, one thread each (default 50)")
    parser.add_argument("--photos", type=int, default=200, help="fresh photos they review; fewer means more conflicts (default 200)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--port", type=int, default=8602, help="port of gunicorn on 127.0.0.1 (default 8602)")
    return parser.parse_args()


def make_inspectors(count, run_id):
    """Create `count` inspectors with API tokens and return the tokens."""
    from rest_framework.authtoken.models import Token

    from inspection.roles import INSPECTOR
    from tests.inspection_data import user_in_role

    return [Token.objects.create(user=user_in_role(f"bench-{run_id}-{number}", INSPECTOR)).key for number in range(count)]


def noise_jpeg():
    """Return a small JPEG of random pixels, so that no earlier run's photo has the same content."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (32, 24), os.urandom(32 * 24 * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


def make_photos(count, run_id):
    """Store `count` fresh photos, each with a prediction of the active model version."""
    from django.utils import timezone

    from inference.models import ModelVersion
    from inspection.services.photos import Upload, store_photo
    from tests.inspection_data import make_version, predict

    version = ModelVersion.objects.filter(is_active=True).first() or make_version(name=f"bench-{run_id}")
    photo_ids = []
    for number in range(count):
        upload = Upload(
            data=noise_jpeg(), original_name="front.jpg", plate=f"{10 + number % 80}가{1000 + number % 9000}",
            reservation_id=f"bench-{run_id}-{number}", uploaded_at=timezone.now(),
        )
        photo, _ = store_photo(upload)
        predict(photo, version)
        photo_ids.append(photo.pk)
    return photo_ids


def start_server(args):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofar_site.settings.production",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_CONN_MAX_AGE": "60",
    }
    log_path = Path(os.environ["SOFAR_DATA_DIR"]) / "gunicorn-reviews.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sofar_site.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "120",
         "--log-level", "warning", "--error-logfile", str(log_path)],
        cwd=REPO_ROOT, env=environment,
    )
    wait_for_port(args.port, server)
    return server, log_path


def main():
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of its own, e.g. postgres://postgres@127.0.0.1:5432/sofar_bench.")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_hex(32))
    setup_django()
    from tests.review_load import count_lost, run_inspectors

    run_id = time.strftime("%Y%m%d%H%M%S")
    photo_ids = make_photos(args.photos, run_id)
    tokens = make_inspectors(args.inspectors, run_id)
    print(f"{args.inspectors} inspectors on {args.photos} fresh photos for {args.seconds:.0f} s; "
          f"gunicorn {args.workers} workers x {args.threads} threads on 127.0.0.1:{args.port}")

    server, log_path = start_server(args)
    try:
        tally = run_inspectors(f"http://127.0.0.1:{args.port}", tokens, photo_ids, args.seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    lost = count_lost(tally, photo_ids)
    print(
        f"{tally.tried} reviews tried in {tally.seconds:.1f} s ({tally.tried / tally.seconds:.1f}/s): "
        f"{tally.succeeded} stored (201), {tally.conflicts} conflicts (409 stale_revision), {len(tally.errors)} errors"
    )
    print("rows that do not match the 201 responses: " + ", ".join(f"{name} {count:+d}" for name, count in lost.items()))
    for error in tally.errors[:10]:
        print(f"  error: {error}")
    if tally.errors or any(lost.values()):
        print(f"FAILED; gunicorn's log: {log_path}")
        raise SystemExit(1)
    print("no error, no lost review")


if __name__ == "__main__":
    main()
