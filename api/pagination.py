"""Cursor pagination for every list: stable pages while new photos and predictions arrive."""
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Newest first by id, which is unique and never changes, so no row is skipped or repeated."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200


class LabelCursorPagination(IdCursorPagination):
    """Labels in the scheme's order, as the screens list them."""

    ordering = ("position", "id")
