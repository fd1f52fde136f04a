"""The user's language follows the user, not the browser: stored on the user, applied per request.

The language switcher saves the choice on the user; at log-in it is copied to the session, and
the middleware activates it on every request of that session, ahead of the browser's cookie
and Accept-Language header.
"""
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from inspection.models import UserPreference

SESSION_KEY = "sofar_language"


@receiver(user_logged_in)
def restore_language(sender, request, user, **kwargs):
    preference = UserPreference.objects.filter(user=user).first()
    if preference and request is not None:
        request.session[SESSION_KEY] = preference.language


@require_POST
def switch_language(request):
    """Django's set_language, which also stores the choice on the logged-in user."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and translation.check_for_language(language) and language in dict(
        UserPreference._meta.get_field("language").choices
    ):
        UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
        request.session[SESSION_KEY] = language
    return response


class UserLanguageMiddleware:
    """Activate the logged-in user's stored language; placed after the authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if language and request.user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
