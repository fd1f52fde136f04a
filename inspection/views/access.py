"""Access checks shared by the screens: log-in first, then one permission, checked on the server."""
from functools import wraps

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def permission_required(permission):
    """Send anonymous users to the log-in page and return 403 to users without `permission`.

    Django's own decorator with raise_exception=True returns 403 to anonymous users too,
    which would hide the log-in page from someone whose session expired.
    """

    def decorator(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if request.htmx:
                    # A redirect followed inside an htmx request would swap the log-in page
                    # into the photo card: send the whole page to the log-in page instead.
                    page = request.htmx.current_url_abs_path or "/"
                    return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page})}")
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return guarded

    return decorator


def safe_next(request, fallback):
    """Return the POSTed `next` URL when it stays on this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
