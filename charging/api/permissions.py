"""The API's permissions: Django's model permissions, applied as the admin applies them."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

# A write's permission by HTTP method, unless the view names one (`write_permission`).
_WRITE = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def _codename(model: Any, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class ModelPermissions(BasePermission):
    """A logged-in user with the permission on the view's `permission_model`: reading needs view
    (or change, which implies it in the admin), writing add/change/delete by method, or the
    view's `write_permission` (commands and keys: `change` of the charge point, like the
    admin's actions)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        model = view.permission_model
        if request.method in SAFE_METHODS:
            return user.has_perm(_codename(model, "view")) or user.has_perm(
                _codename(model, "change")
            )
        action = getattr(view, "write_permission", None) or _WRITE.get(request.method or "")
        return action is not None and user.has_perm(_codename(model, action))
