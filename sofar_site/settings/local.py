"""Settings for one machine: the defaults of base.py with debugging helpers on."""
from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
