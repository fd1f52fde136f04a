"""The API's one error shape and the exceptions beyond DRF's own.

Every error response is a JSON object:

    {"code": "invalid", "detail": "Invalid input.", "fields": {"image": ["..."]}}

`code` is stable for programs, `detail` is a sentence in the request's language, and
`fields` maps each rejected field (dotted for nested ones: "labels.0") to its messages;
it is empty when the error concerns no field.
"""
import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

SERVER_ERROR_MESSAGE = _("The server failed to handle the request. The error is logged; try again later.")

NON_FIELD_ERRORS = "non_field_errors"


class Conflict(exceptions.APIException):
    """The request is valid but the resource's current state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The resource changed or is in a state that does not allow this request.")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"

    def __init__(self, detail=None, code=None, field=None):
        super().__init__(detail, code)
        self.field = field


def flatten_field_errors(errors, prefix=""):
    """Turn DRF's nested error structure into {"field.sub": ["message", ...]}."""
    if isinstance(errors, dict):
        flat = {}
        for key, value in errors.items():
            flat.update(flatten_field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(item, str) for item in errors):
        return {prefix or NON_FIELD_ERRORS: [str(item) for item in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, value in enumerate(errors):
            if value:
                flat.update(flatten_field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or NON_FIELD_ERRORS: [str(errors)]}


def first_code(codes):
    """Return the first error code of a nested `get_codes()` structure."""
    while isinstance(codes, (dict, list)) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else "invalid"


def _translate_django_errors(error):
    # Django raises these while parsing the body, before any serializer runs. Unmapped,
    # they would reach the client as a bare HTML 400 page.
    if isinstance(error, RequestDataTooBig):
        return PayloadTooLarge(_("The request body is larger than the server accepts."))
    if isinstance(error, (TooManyFieldsSent, TooManyFilesSent)):
        return exceptions.ParseError(_("The request has too many fields or files."))
    return error


def api_exception_handler(error, context):
    """Render every error in the shape described in the module docstring."""
    error = _translate_django_errors(error)
    response = exception_handler(error, context)
    if response is None:
        # An error no handler expected: the client gets the usual JSON shape and no stack
        # trace; the trace goes to the log.
        logger.error("unexpected error on %s", context["request"].path, exc_info=error)
        body = {"code": "server_error", "detail": str(SERVER_ERROR_MESSAGE), "fields": {}}
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    if isinstance(error, exceptions.ValidationError):
        body = {
            "code": first_code(error.get_codes()),
            "detail": str(_("Invalid input.")),
            "fields": flatten_field_errors(error.detail),
        }
    else:
        detail = error.detail if isinstance(error, exceptions.APIException) else response.data.get("detail", "")
        code = detail.code if hasattr(detail, "code") else getattr(error, "default_code", "error")
        field = getattr(error, "field", None)
        body = {"code": code, "detail": str(detail), "fields": {field: [str(detail)]} if field else {}}
    if response.status_code >= 500:
        logger.error("API error %s on %s: %s", response.status_code, context["request"].path, body["detail"])
    response.data = body
    return response
