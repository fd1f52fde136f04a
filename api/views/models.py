"""The label scheme, model versions and inference runs."""
import logging

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.exceptions import Conflict
from api.filters import InferenceRunFilter, LabelFilter, ModelVersionFilter
from api.pagination import LabelCursorPagination
from api.schema import ErrorSerializer
from api.serializers import (
    InferenceRunSerializer,
    LabelSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    RunCreateSerializer,
)
from inference.models import InferenceRun, ModelVersion
from inference.services.runs import NoActiveModel, start_run
from inference.services.versions import activate_version
from inspection.models import Label
from inspection.services.labels import next_label_position, save_label_change

logger = logging.getLogger(__name__)


@extend_schema_view(
    list=extend_schema(summary="List labels", responses={200: LabelSerializer(many=True)}),
    retrieve=extend_schema(summary="Show a label", responses={200: LabelSerializer}),
    create=extend_schema(summary="Add a label", responses={201: LabelSerializer}),
    partial_update=extend_schema(
        summary="Change a label",
        description="Names, action, aliases, position and active flag; the code never changes. Deactivate a label instead of deleting it.",
        responses={200: LabelSerializer},
    ),
)
class LabelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = Label.objects.all()
    serializer_class = LabelSerializer
    filterset_class = LabelFilter
    pagination_class = LabelCursorPagination
    lookup_field = "code"
    required_permissions = {
        "list": "inspection.view_photo",
        "retrieve": "inspection.view_photo",
        "create": "inspection.manage_labels",
        "partial_update": "inspection.manage_labels",
    }

    def perform_create(self, serializer):
        # Without a position, a new label goes to the end of the scheme, as on the screen.
        extra = {}
        if "position" not in serializer.validated_data:
            extra["position"] = next_label_position()
        label = save_label_change(self.request.user, None, lambda: serializer.save(**extra))
        logger.info("user %s added label %s", self.request.user.pk, label.code)

    def partial_update(self, request, code=None):
        # PATCH only: labels are never replaced whole (PUT) nor deleted, because predictions
        # and training labels point at them; an unused label is deactivated.
        label = self.get_object()
        serializer = self.get_serializer(label, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        save_label_change(request.user, label, serializer.save)
        logger.info("user %s changed label %s: %s", request.user.pk, label.code, sorted(serializer.validated_data))
        return Response(serializer.data)


@extend_schema_view(
    list=extend_schema(summary="List model versions", responses={200: ModelVersionSerializer(many=True)}),
    retrieve=extend_schema(summary="Show a model version", description="With its metrics and evaluation report.", responses={200: ModelVersionDetailSerializer}),
)
class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ModelVersion.objects.all()
    filterset_class = ModelVersionFilter
    required_permissions = {
        "list": "inspection.view_photo",
        "retrieve": "inspection.view_photo",
        "activate": "inspection.manage_models",
    }

    def get_serializer_class(self):
        return ModelVersionSerializer if self.action == "list" else ModelVersionDetailSerializer

    @extend_schema(
        summary="Activate a model version",
        description="New photos and daily runs are classified by this version from now on; the previous active version is deactivated.",
        request=None,
        responses={200: ModelVersionDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        version = activate_version(self.get_object(), request.user)
        return Response(ModelVersionDetailSerializer(version, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(summary="List inference runs", responses={200: InferenceRunSerializer(many=True)}),
    retrieve=extend_schema(summary="Show an inference run", responses={200: InferenceRunSerializer}),
)
class InferenceRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = InferenceRunSerializer
    filterset_class = InferenceRunFilter
    required_permissions = {
        "list": "inspection.view_photo",
        "retrieve": "inspection.view_photo",
        "create": "inspection.manage_models",
    }

    def get_queryset(self):
        return InferenceRun.objects.select_related("model_version")

    @extend_schema(
        summary="Run the classification of a day",
        description="Queues every photo uploaded on that day that the active version has not classified, as the daily run does.",
        request=RunCreateSerializer,
        responses={
            201: InferenceRunSerializer,
            409: OpenApiResponse(ErrorSerializer, description="No model version is active (code no_active_model)."),
        },
    )
    def create(self, request):
        run_request = RunCreateSerializer(data=request.data)
        run_request.is_valid(raise_exception=True)

        try:
            run = start_run(run_request.validated_data["date"])
        except NoActiveModel:
            raise Conflict(_("No model version is active; activate one before starting a run."), code="no_active_model") from None

        logger.info("user %s started run %s of %s", request.user.pk, run.pk, run.target_date)
        return Response(InferenceRunSerializer(run, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)
