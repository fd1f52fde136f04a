"""JSON read by many clients alike, served from the shared cache until the data under it changes.

See inspection.shared_cache. A cached body is keyed by its absolute URL (page links in it
name the host), the language of its messages and the view that built it. Permissions are
checked before a view runs, and a list's content is the same for every user allowed to read it.
"""
from django.http import HttpResponse
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

from inference.services.days import parse_day
from inspection import shared_cache


def cached_json(view, request, build, day=None):
    """Return an HTTP 200 response with `build()` rendered as JSON, or a Response `build` raised.

    `build()` returns the data of a successful response; errors (invalid filters) are
    raised as API exceptions and never cached.
    """
    parts = ("api", request.build_absolute_uri(), get_language(), type(view).__name__, view.action)
    body = shared_cache.cached(parts, lambda: JSONRenderer().render(build()), day=day)
    return HttpResponse(body, content_type="application/json")


class CachedListMixin:
    """A `list` action served through `cached_json`; a valid `day` filter narrows what invalidates it."""

    def list(self, request, *args, **kwargs):
        def build():
            response = super(CachedListMixin, self).list(request, *args, **kwargs)
            return response.data

        return cached_json(self, request, build, day=parse_day(request.query_params.get("day")))
