"""Role checks of the API: each action names the one permission from `inspection.roles` it needs."""
from rest_framework.permissions import BasePermission


class RolePermission(BasePermission):
    """Allow a request when its user has the permission the view maps to the action.

    Views declare `required_permissions`, a dict from action (`list`, `create`, a custom
    action name) to a permission such as "inspection.review_photo". An action missing
    from the dict is denied, so a new action is closed until someone decides who may use it.
    On a viewset, a method with no action (PUT or DELETE where none is routed) and OPTIONS
    pass: the first gets 405, the second only a description of the endpoint. A view that is
    not a viewset has no action and is denied unless it maps None to a permission.
    An anonymous request is denied before the role check, which DRF turns into 401.
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        action = getattr(view, "action", None)
        # `action_map` marks a viewset; importing ViewSetMixin here would be circular,
        # because DRF imports this module while loading its own views.
        if hasattr(view, "action_map") and action in (None, "metadata"):
            # No action is routed for this HTTP method, so the viewset returns 405 and runs
            # nothing. OPTIONS only describes the endpoint, as the public schema does.
            return True
        required = getattr(view, "required_permissions", {}).get(action)
        return required is not None and request.user.has_perm(required)
