"""Wash and repair work orders: list, dispatch, status transitions and the CSV export."""
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.exceptions import Conflict
from api.filters import WorkOrderFilter
from api.schema import ErrorSerializer
from api.serializers import StatusChangeSerializer, WorkOrderCreateSerializer, WorkOrderSerializer
from inspection.models import WorkOrder
from inspection.services.exports import orders_csv
from inspection.services.orders import InvalidOrder, InvalidTransition, change_status, dispatch_order


@extend_schema_view(
    list=extend_schema(summary="List work orders", responses={200: WorkOrderSerializer(many=True)}),
    retrieve=extend_schema(summary="Show a work order", responses={200: WorkOrderSerializer}),
)
class WorkOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WorkOrderSerializer
    filterset_class = WorkOrderFilter
    required_permissions = {
        "list": "inspection.manage_orders",
        "retrieve": "inspection.manage_orders",
        "export": "inspection.manage_orders",
        "status": "inspection.manage_orders",
        "create": "inspection.dispatch_order",
    }

    def get_queryset(self):
        return WorkOrder.objects.select_related("car", "created_by", "status_changed_by").prefetch_related("labels", "photos")

    @extend_schema(
        summary="Dispatch a wash or a repair",
        description=(
            "A car has at most one open order per kind: when one is open or dispatched, the photos "
            "and labels are added to it and it is returned with 200."
        ),
        request=WorkOrderCreateSerializer,
        responses={
            201: OpenApiResponse(WorkOrderSerializer, description="A new order."),
            200: OpenApiResponse(WorkOrderSerializer, description="The car's open order of that kind, with the photos and labels added."),
            409: OpenApiResponse(ErrorSerializer, description="The car's orders changed meanwhile; retry."),
        },
    )
    def create(self, request):
        order_request = WorkOrderCreateSerializer(data=request.data)
        order_request.is_valid(raise_exception=True)
        fields = order_request.validated_data

        try:
            order, created = dispatch_order(
                fields["car"], fields["kind"], request.user, photos=fields.get("photos", ()), labels=fields.get("labels", ())
            )
        except InvalidOrder as error:
            raise Conflict(str(error)) from None

        order = self.get_queryset().get(pk=order.pk)
        body = WorkOrderSerializer(order, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Change a work order's status",
        description="Allowed: open → dispatched → done, and open or dispatched → cancelled. Any other move is 409.",
        request=StatusChangeSerializer,
        responses={
            200: WorkOrderSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The order's current status does not allow this move (code invalid_transition)."),
        },
    )
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        order = self.get_object()
        change = StatusChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)

        try:
            change_status(order, change.validated_data["status"], request.user)
        except InvalidTransition as error:
            raise Conflict(str(error), code="invalid_transition") from None

        order = self.get_queryset().get(pk=order.pk)
        return Response(WorkOrderSerializer(order, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Export work orders as CSV",
        description=(
            "The filtered orders as UTF-8 CSV with a byte-order mark (for Excel), one row per order. "
            "A cell starting with =, +, -, @, tab or carriage return is prefixed with ' so that no "
            "spreadsheet runs it as a formula."
        ),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV file.")},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request):
        orders = self.filter_queryset(self.get_queryset())
        response = HttpResponse(orders_csv(orders, base_url=request.build_absolute_uri("/")), content_type="text/csv; charset=utf-8")
        filename = f"work-orders-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def perform_content_negotiation(self, request, force=False):
        # The export returns text/csv, which no renderer of the API offers, so without force
        # a client sending Accept: text/csv would get 406. Errors still render as JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "export")
