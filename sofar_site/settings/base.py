"""Settings shared by every environment.

Each value that differs between a laptop and production is read from the environment,
with a default that runs the whole app on one machine without any server installed.
"""
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("SOFAR_DATA_DIR", str(BASE_DIR / "data")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-local-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "inspection",
    "inference",
    "api",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "inspection.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "sofar_site.urls"
WSGI_APPLICATION = "sofar_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite under the data folder unless DATABASE_URL names a server (PostgreSQL in production).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'sofar.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process, the worker and beat share one SQLite file: wait for a lock instead
    # of failing at once, and let readers go on while one process writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-sofar.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inspection:home"

# "The day" of a photo and of the daily run is the calendar day in this time zone.
TIME_ZONE = env_str("TIME_ZONE", "Asia/Seoul")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Media (photos, thumbnails, model weights) on S3-compatible object storage through
# django-storages when a bucket is named, so web and workers on machines with no shared
# disk read the same files. boto3 finds the credentials itself: AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, or a pod's IAM role.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL"),
            "region_name": env_str("AWS_S3_REGION_NAME", "us-east-1"),
            "location": env_str("AWS_LOCATION", ""),
            # Stored names are generated and unique; never overwrite an existing object.
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }

# Upload limits, checked before a file is decoded or stored.
SOFAR_MAX_UPLOAD_BYTES = env_int("SOFAR_MAX_UPLOAD_BYTES", 30 * 1024 * 1024)
SOFAR_MAX_IMAGE_PIXELS = env_int("SOFAR_MAX_IMAGE_PIXELS", 50_000_000)
SOFAR_THUMBNAIL_SIZE = env_int("SOFAR_THUMBNAIL_SIZE", 320)

# Inference: photos per Celery task, and where trained model weights and cached
# backbone features live.
SOFAR_INFERENCE_BATCH_SIZE = env_int("SOFAR_INFERENCE_BATCH_SIZE", 32)
SOFAR_FEATURE_CACHE_DIR = Path(env_str("SOFAR_FEATURE_CACHE_DIR", str(DATA_DIR / "cache" / "features")))
SOFAR_DEVICE = env_str("SOFAR_DEVICE", "auto")
# Workers keep each model version's weights on local disk, named by their SHA-256, so a
# worker on a machine without shared disk downloads a version once.
SOFAR_WEIGHTS_CACHE_DIR = Path(env_str("SOFAR_WEIGHTS_CACHE_DIR", str(DATA_DIR / "cache" / "weights")))
# "auto": ONNX Runtime on CPU when it is installed, PyTorch on a GPU; or "onnx", "torch".
SOFAR_INFERENCE_BACKEND = env_str("SOFAR_INFERENCE_BACKEND", "auto")
# Threads decoding photos while the previous chunk of a batch goes through the model.
SOFAR_DECODE_THREADS = env_int("SOFAR_DECODE_THREADS", 2)
# bfloat16 autocast of the forward pass on CUDA (faster on recent GPUs).
SOFAR_CUDA_BF16 = env_bool("SOFAR_CUDA_BF16", True)
# JPEG decoding with nvJPEG on CUDA workers; other formats are always decoded by Pillow.
SOFAR_GPU_DECODE = env_bool("SOFAR_GPU_DECODE", True)

# A cache shared by every process (Redis) when SOFAR_CACHE_URL names one. The upload rate
# limit then counts across web processes, and the queue and the API lists are cached until
# the data under them changes (inspection.shared_cache). Sessions stay in the database
# only: a log-out must end a session even while the cache is unreachable. Without
# it each process keeps its own memory cache, which cannot see another process's writes,
# so nothing is cached across requests.
SOFAR_CACHE_URL = env_str("SOFAR_CACHE_URL", "")
if SOFAR_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": SOFAR_CACHE_URL,
            # A cache that hangs must cost a request little: every caller survives a cache error.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
# Entries of older generations are never read again; this bounds how long they take memory.
# Without a shared cache it is 0 (off) whatever the environment sets, because a worker's write
# could not reach the web processes' own caches.
SOFAR_SHARED_CACHE_SECONDS = env_int("SOFAR_SHARED_CACHE_SECONDS", 120) if SOFAR_CACHE_URL else 0

# Celery. The default broker is kombu's filesystem transport under the data folder,
# so one machine runs web, worker and beat without a broker server.
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis: a task unacknowledged for this long is delivered again, so it must exceed
    # the longest task (training) or that task would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "inference.tasks.classify_batch": {"queue": "inference"},
    "inference.tasks.train_model": {"queue": "training"},
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
DAILY_RUN_HOUR = env_int("SOFAR_DAILY_RUN_HOUR", 2)
# A run with photos still queued, no progress for this many seconds and no task waiting
# in the broker has lost tasks; it must exceed classify_batch's time limit (660 s).
SOFAR_RUN_STALL_SECONDS = env_int("SOFAR_RUN_STALL_SECONDS", 900)
SOFAR_RUN_MAX_STALLS = env_int("SOFAR_RUN_MAX_STALLS", 3)
SOFAR_STALL_CHECK_SECONDS = env_int("SOFAR_STALL_CHECK_SECONDS", 300)
CELERY_BEAT_SCHEDULE = {
    # Yesterday's photos are classified early in the morning, before inspectors start.
    "classify-yesterday": {
        "task": "inference.tasks.start_daily_run",
        "schedule": crontab(hour=DAILY_RUN_HOUR, minute=0),
    },
    # A run whose tasks were lost (a killed worker, a broker restarted without persistence)
    # gets its missing photos queued again.
    "requeue-stalled-runs": {
        "task": "inference.tasks.requeue_stalled_runs",
        "schedule": SOFAR_STALL_CHECK_SECONDS,
    },
}

# REST API under /api/v1/. A token (`manage.py issue_api_token`) authenticates other tools,
# the session the browser; the token comes first so that an anonymous request gets 401
# with a WWW-Authenticate header instead of 403.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"uploads": env_str("SOFAR_API_UPLOAD_RATE", "120/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SOFAR inspection API",
    "DESCRIPTION": "Photos, predictions, the inspector queue, reviews, work orders and model versions.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Multipart uploads need separate request and response components for the file field.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc come from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PhotoStatusEnum": "inspection.models.Photo.Status",
        "WorkOrderStatusEnum": "inspection.models.WorkOrder.Status",
        "RunStatusEnum": "inference.models.InferenceRun.Status",
        "LabelActionEnum": "inspection.models.Label.Action",
        "ReviewActionEnum": "inspection.models.Review.Action",
    },
}

LOG_LEVEL = env_str("SOFAR_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "inspection": {"level": LOG_LEVEL},
        "inference": {"level": LOG_LEVEL},
        "api": {"level": LOG_LEVEL},
        "celery": {"level": "INFO"},
    },
}

# SQLite and the filesystem broker need their folders before the first connection.
DATA_DIR.mkdir(parents=True, exist_ok=True)
