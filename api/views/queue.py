"""The inspector queue of a day, grouped per car as the queue screen shows it."""
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.utils.urls import replace_query_param

from api.caching import cached_json
from api.schema import error_responses
from api.serializers import QueueQuerySerializer, QueueSerializer
from inspection.services.queue import QueueFilters, ood_count, ood_page, parse_cursor, queue_page


class QueueViewSet(viewsets.ViewSet):
    """One queue object per day and page; routed by hand as `show`, because the schema would
    describe a router's `list` action as an array."""

    required_permissions = {"show": "inspection.view_queue"}

    @extend_schema(
        summary="Show the inspector queue of a day",
        description=(
            "Cars with Dirt or Defect in a photo's top-2 labels, most urgent first, paginated by car group "
            "with a cursor, and the day's first out-of-distribution photos apart. A group keeps its place while "
            "its photos are reviewed, so paging never skips or repeats a car."
        ),
        parameters=[QueueQuerySerializer],
        responses={200: QueueSerializer, **error_responses(400, 404)},
    )
    def show(self, request):
        query = QueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        cursor = params.get("cursor", "")
        if cursor and parse_cursor(cursor) is None:
            raise NotFound(_("Invalid cursor"))

        day = params.get("date") or timezone.localdate()
        filters = QueueFilters(
            label=params.get("label", ""), reviewed=params.get("reviewed", ""), min_probability=params["min_probability"]
        )

        def build():
            groups, next_cursor = queue_page(day, filters, after=cursor, size=params["page_size"])
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", next_cursor) if next_cursor else None
            queue = {"date": day, "next": next_url, "groups": groups, "ood_count": ood_count(day), "ood_items": ood_page(day)[0]}
            return QueueSerializer(queue, context={"request": request}).data

        return cached_json(self, request, build, day=day)
