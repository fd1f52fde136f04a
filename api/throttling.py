"""Per-user rate limit of photo uploads."""
import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class UploadRateThrottle(UserRateThrottle):
    """Limit uploads per user to REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["uploads"].

    DRF's throttles read their rates once, at import. This one reads them per request, so a
    changed setting (and a test that overrides it) takes effect at once.
    """

    # Counts live in Django's default cache: Redis when SOFAR_CACHE_URL is set, so the limit
    # counts across web processes. Without it each process counts alone, and N web processes
    # allow up to N times the rate.
    scope = "uploads"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # An upload is worth more than its rate limit: with the cache down, let it through.
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("upload rate limit skipped for user %s: the cache failed", getattr(request.user, "pk", None), exc_info=True)
            return True
