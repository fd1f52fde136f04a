"""Settings for one machine: the defaults of base.py, serving static files without collectstatic.

DEBUG stays off unless DJANGO_DEBUG=true, because its error pages show stack traces and
settings to whoever triggers an error.
"""
from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", False)

# Serve static files straight from the app folders, without `collectstatic`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
