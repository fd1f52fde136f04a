"""OpenAPI generation: every operation lists the errors it can return, in the one error shape."""
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from api.permissions import RolePermission


class ErrorSerializer(serializers.Serializer):
    """Body of every error response (see `api.exceptions`)."""

    code = serializers.CharField(help_text="Stable error code, e.g. invalid, not_authenticated, stale_revision.")
    detail = serializers.CharField(help_text="What went wrong, in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Messages per rejected field, dotted for nested fields ("labels.0"); empty when no field is at fault.',
    )


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `fields` names each rejected field.",
    "401": "No valid token or session; the response carries a WWW-Authenticate header.",
    "403": "Authenticated, but the user's role lacks the permission.",
    "404": "No such object, or an invalid page cursor.",
    "409": "The object's current state does not allow the request.",
    "413": "The upload is larger than SOFAR_MAX_UPLOAD_BYTES.",
    "415": "The request body's content type is not accepted.",
    "429": "Too many uploads; retry after the seconds in the Retry-After header.",
}


def error_response(code):
    return OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])


def error_responses(*codes):
    """Return extend_schema responses for errors an operation adds to the common ones."""
    return {code: error_response(str(code)) for code in codes}


class ApiAutoSchema(AutoSchema):
    """Add the errors every operation shares, so no endpoint documents only its happy path.

    Views declare their success responses and errors of their own (such as 409) with
    `extend_schema(responses={...})`. This class adds the shared ones:
    - 401 and 403 to role-checked operations,
    - 404 to paths with an id and to paginated lists (an invalid cursor),
    - 400 and 415 to operations with a body, 400 to filtered lists,
    - 429 to throttled operations.
    """

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        error_body = {"application/json": {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}}
        responses = operation.setdefault("responses", {})
        for code in self._common_error_codes(has_body="requestBody" in operation):
            responses.setdefault(code, {"content": error_body, "description": ERROR_DESCRIPTIONS[code]})
        return operation

    def _common_error_codes(self, has_body):
        codes = []
        if any(issubclass(permission, RolePermission) for permission in self.view.permission_classes):
            codes += ["401", "403"]
        is_list = self._is_list_view()
        if "{" in self.path or (is_list and getattr(self.view, "pagination_class", None)):
            codes.append("404")
        if has_body:
            codes += ["400", "415"]
        elif self.method == "GET" and "{" not in self.path and getattr(self.view, "filterset_class", None):
            codes.append("400")
        if self.view.get_throttles():
            codes.append("429")
        return codes
