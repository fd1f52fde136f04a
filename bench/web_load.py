"""Latency of the queue page and the API lists under concurrent clients, with wrk.

Seeds one day of photos and predictions (manage.py seed_day) when the day is empty,
starts gunicorn with the production settings on 127.0.0.1, logs in one superuser and
runs wrk against each path with that session, in three set-ups measured in the same run:
- uncached: no shared cache, every request builds its response (the baseline);
- cached: the shared Redis cache (SOFAR_CACHE_URL) in front of the queue and the lists;
- cached, with reviews: the same while inspectors save --reviews-per-second reviews of the
  day's photos, each of which invalidates the day's cached responses.
Needs DATABASE_URL (PostgreSQL), Redis for the cache and wrk (Debian package `wrk`).

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofar_bench python bench/web_load.py \
      [--day 2026-12-03] [--photos 100000] [--connections 32] [--duration 15] [--timeout 5] [--port 8401] \
      [--cache-url redis://127.0.0.1:6379/3] [--reviews-per-second 2] [PATH ...]
Paths default to the queue page and the API lists of the day; {day} in a path is replaced.
"""
import argparse
import os
import re
import secrets
import signal
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import REPO_ROOT, setup_django

DEFAULT_PATHS = [
    "/queue/?date={day}",
    "/api/v1/queue/?date={day}",
    "/api/v1/photos/?day={day}",
    "/api/v1/predictions/?day={day}",
]
RESULT = re.compile(r"RESULT (.*)")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS, help="paths to load; {day} is replaced by --day")
    parser.add_argument("--day", default="2026-12-03", help="day of the seeded photos (default 2026-12-03)")
    parser.add_argument("--photos", type=int, default=100_000, help="photos to seed when the day is empty (default 100000)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per path (default 15)")
    parser.add_argument("--timeout", type=int, default=5, help="seconds after which wrk counts a request as a timeout error (default 5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--port", type=int, default=8401, help="port of gunicorn on 127.0.0.1 (default 8401)")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/3", help="Redis database of the shared cache (default redis://127.0.0.1:6379/3)")
    parser.add_argument("--reviews-per-second", type=float, default=2.0, help="reviews saved per second in the third set-up (default 2)")
    return parser.parse_args()


def logged_in_session():
    """Return a session key of a superuser, created in the database the server reads."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def wait_for_port(port, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; is port {port} free?")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not listen on 127.0.0.1:{port} within {seconds} s")


def status_of(url, cookie):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Cookie": cookie})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            return response.status, len(body), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, 0, time.perf_counter() - started


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found; install it with `apt-get install wrk`.")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of its own, e.g. postgres://postgres@127.0.0.1:5432/sofar_bench.")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_hex(32))
    # This process saves the reviews of the third set-up, so it must invalidate the same cache.
    os.environ["SOFAR_CACHE_URL"] = args.cache_url
    setup_django()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.utils.dateparse import parse_date

    from inference.services.days import photos_uploaded_on
    from inspection.models import Photo

    day = parse_date(args.day)
    seeded = photos_uploaded_on(Photo.objects.all(), day).count()
    if seeded == 0:
        call_command("seed_day", date=day, photos=args.photos)
        seeded = args.photos
    cookie = f"sessionid={logged_in_session()}"

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofar_site.settings.production",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_CONN_MAX_AGE": "60",
        "DJANGO_STATIC_ROOT": str(Path(os.environ["SOFAR_DATA_DIR"]) / "staticfiles"),
    }
    uncached = {key: value for key, value in environment.items() if key != "SOFAR_CACHE_URL"}
    # The production settings serve static files from a manifest that collectstatic writes.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=REPO_ROOT, env=environment, check=True)
    print(
        f"{seeded} photos on {day}; gunicorn {args.workers} workers, restarted for each path and set-up; wrk "
        f"{args.connections} connections for {args.duration} s per path; a request slower than {args.timeout} s "
        f"counts as an error; shared cache {args.cache_url}"
    )
    for path in args.paths:
        path = path.format(day=day)
        cache.clear()
        uncached_rate = load_path(path, "uncached", args, uncached, cookie)
        cached_rate = load_path(path, "cached", args, environment, cookie)
        with ReviewWriter(day, args.reviews_per_second) as writer:
            reviewed_rate = load_path(path, f"cached, {args.reviews_per_second:g} reviews/s", args, environment, cookie)
        if uncached_rate:
            print(
                f"{path}: requests/s cached / uncached {cached_rate / uncached_rate:.1f}x, cached with reviews / "
                f"uncached {reviewed_rate / uncached_rate:.1f}x ({writer.saved} reviews saved)"
            )


class ReviewWriter:
    """Save reviews of random queue photos of `day` at a steady rate, in a thread, while the load runs."""

    def __init__(self, day, per_second):
        self.day, self.interval, self.saved = day, 1 / per_second if per_second > 0 else None, 0
        self.stopped = threading.Event()

    def __enter__(self):
        from django.contrib.auth.models import User

        from inspection.services.queue import queue_predictions

        self.user = User.objects.get(username="bench")
        self.photo_ids = list(queue_predictions(self.day).values_list("photo_id", flat=True)[:5000])
        self.thread = threading.Thread(target=self.run, daemon=True)
        if self.interval and self.photo_ids:
            self.thread.start()
        return self

    def run(self):
        import random

        from django.db import connection

        from inspection.models import Photo
        from inspection.services.reviews import InvalidReview, submit_review

        rng = random.Random(0)
        while not self.stopped.wait(self.interval):
            try:
                submit_review(Photo.objects.get(pk=rng.choice(self.photo_ids)), self.user, "confirm")
            except InvalidReview:
                continue
            self.saved += 1
        connection.close()

    def __exit__(self, *exc):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()


def run_wrk(url, cookie, args, duration):
    """Run wrk against `url` and return the fields of the line wrk_report.lua prints."""
    completed = subprocess.run(
        ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{duration}s", "--timeout", f"{args.timeout}s",
         "-s", str(Path(__file__).with_name("wrk_report.lua")), "-H", f"Cookie: {cookie}", url],
        capture_output=True, text=True, check=True,
    )
    return dict(item.split("=") for item in RESULT.search(completed.stdout).group(1).split())


def load_path(path, setup, args, environment, cookie):
    """Start gunicorn, time one request to `path`, then load it with wrk, print the figures and return requests/s."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sofar_site.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--timeout", "300", "--log-level", "warning",
         "--error-logfile", str(Path(environment["SOFAR_DATA_DIR"]) / "gunicorn-bench.log")],
        cwd=REPO_ROOT, env=environment,
    )
    try:
        wait_for_port(args.port, server)
        url = f"http://127.0.0.1:{args.port}{path}"
        status, size, seconds = status_of(url, cookie)
        if status != 200:
            print(f"{path} ({setup}): HTTP {status} for one request; not loaded")
            return 0.0
        # Every gunicorn worker imports the app lazily on its first requests: a short run
        # first, so the measured one sees warm workers.
        run_wrk(url, cookie, args, duration=min(3, args.duration))
        fields = run_wrk(url, cookie, args, duration=args.duration)
        errors = sum(int(fields[name]) for name in ("connect", "read", "write", "status", "timeout"))
        requests = int(fields["requests"])
        if requests:
            latency = f"p50 {fields['p50_ms']} ms, p95 {fields['p95_ms']} ms, p99 {fields['p99_ms']} ms"
        else:
            # wrk counts neither errors nor latency for requests still open when it stops.
            latency = f"no request completed, all {args.connections} connections still waiting"
            errors += args.connections
        rate = requests / float(fields["duration_s"])
        print(
            f"{path} ({setup}): one request alone {seconds * 1000:.0f} ms, {size / 1024:.0f} KiB; under load {latency}, "
            f"{rate:.1f} requests/s, {errors} errors "
            f"(timeout {fields['timeout']}, status {fields['status']}, connect {fields['connect']}, read {fields['read']})"
        )
        return rate
    finally:
        # QUIT stops gunicorn at once, dropping requests still queued from the load.
        server.send_signal(signal.SIGQUIT)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
