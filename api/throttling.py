"""Per-user rate limit of photo uploads."""
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class UploadRateThrottle(UserRateThrottle):
    """Limit uploads per user to REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["uploads"].

    DRF's throttles read their rates once, at import. This one reads them per request, so a
    changed setting (and a test that overrides it) takes effect at once.
    """

    # NOTE: counts live in Django's default cache. With no CACHES setting that is a
    # per-process memory cache, so N web processes allow up to N times the rate.
    # A shared cache such as Redis makes the limit exact.
    scope = "uploads"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
