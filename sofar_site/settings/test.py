"""Settings for the test suite: fast password hashing, files under data/test.

The database and broker come from DATABASE_URL and CELERY_BROKER_URL as in every
environment, so the same suite runs on PostgreSQL + Redis and on SQLite + filesystem.
"""
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, CELERY_BROKER_URL, DATABASES
from .env import env_str

TEST_DATA_DIR = Path(env_str("SOFAR_TEST_DATA_DIR", str(BASE_DIR / "data" / "test")))
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(TEST_DATA_DIR / "media")))
# Backbone features are keyed by photo content and backbone weights, so they stay valid
# across test runs and between the two database passes.
SOFAR_FEATURE_CACHE_DIR = TEST_DATA_DIR / "cache" / "features"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each test process keeps its own cache, whatever SOFAR_CACHE_URL is set to. The tests of
# inspection.shared_cache turn caching on themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SOFAR_SHARED_CACHE_SECONDS = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_DATA_DIR / "test-sofar.sqlite3")}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(TEST_DATA_DIR / "broker" / "queue"),
        "data_folder_out": str(TEST_DATA_DIR / "broker" / "queue"),
        "control_folder": str(TEST_DATA_DIR / "broker" / "control"),
        "store_processed": False,
    }

# Serve static files straight from the app folders, without `collectstatic`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
