"""Photos: upload (with optional immediate classification), list and detail; predictions."""
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from api.caching import CachedListMixin
from api.exceptions import Conflict, PayloadTooLarge
from api.filters import PhotoFilter, PredictionFilter
from api.schema import error_responses
from api.serializers import PhotoDetailSerializer, PhotoSerializer, PhotoUploadSerializer, PredictionSerializer
from api.throttling import UploadRateThrottle
from inference.models import ModelVersion, Prediction
from inspection.imaging import InvalidImage
from inspection.models import Photo, Review
from inspection.services.photos import Upload, store_photo

logger = logging.getLogger(__name__)

# Room for the multipart boundaries and the text fields around the image, so that the
# early Content-Length check never rejects an image that is within the limit.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def queue_classification(photo, version):
    """Send `photo` to the inference queue once the upload is committed, unless `version` classified it."""
    from inference.tasks import classify_batch

    if Prediction.objects.filter(photo=photo, model_version=version).exists():
        return False
    transaction.on_commit(lambda: classify_batch.delay(None, [photo.pk], version.pk))
    return True


def too_large(message, size):
    return PayloadTooLarge(message % {"size": size, "limit": settings.SOFAR_MAX_UPLOAD_BYTES}, field="image")


@extend_schema_view(
    list=extend_schema(summary="List photos", responses={200: PhotoSerializer(many=True)}),
    retrieve=extend_schema(
        summary="Show a photo",
        description="With its newest prediction, its reviews and its current training label.",
        responses={200: PhotoDetailSerializer},
    ),
    create=extend_schema(
        summary="Upload a photo",
        description=(
            "Stores the image after checking it decodes and is within the limits; uploading the same bytes "
            "again returns the existing photo with 200. With `classify` the photo is classified at once on "
            "the inference queue; that needs an active model version (409 otherwise)."
        ),
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: OpenApiResponse(PhotoSerializer, description="Stored as a new photo."),
            200: OpenApiResponse(PhotoSerializer, description="The same bytes were uploaded before; nothing new stored."),
            **error_responses(409, 413),
        },
    ),
)
class PhotoViewSet(CachedListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = PhotoFilter
    # The only body this view reads is the upload form.
    parser_classes = [MultiPartParser, FormParser]
    required_permissions = {
        "list": "inspection.view_photo",
        "retrieve": "inspection.view_photo",
        "create": "inspection.upload_photo",
    }

    def get_queryset(self):
        # Only the newest prediction of each photo is shown, and a version's reports can be large JSON.
        newest_first = (
            Prediction.objects.filter(is_latest=True)
            .select_related("model_version", "top1_label", "top2_label")
            .defer("model_version__metrics", "model_version__evaluation", "model_version__training_settings")
            .order_by("-created_at", "-id")
        )
        photos = Photo.objects.select_related("car").prefetch_related(
            Prefetch("predictions", queryset=newest_first, to_attr="predictions_newest_first")
        )
        if self.action == "retrieve":
            reviews = Review.objects.select_related("author").prefetch_related("labels").order_by("-created_at", "-id")
            photos = photos.prefetch_related(Prefetch("reviews", queryset=reviews))
        return photos

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PhotoDetailSerializer
        if self.action == "create":
            return PhotoUploadSerializer
        return PhotoSerializer

    def get_throttles(self):
        return [UploadRateThrottle()] if self.action == "create" else []

    def create(self, request):
        """Upload one photo.

        1. Reject a body over the size limit before parsing it, so nothing is spooled to disk.
        2. Check the version that will classify it exists before storing anything.
        3. Store it (deduplicated by SHA-256) and queue classification after commit.
        """
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.SOFAR_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise too_large(
                _("The request is %(size)d bytes, over the upload limit of %(limit)d bytes (SOFAR_MAX_UPLOAD_BYTES)."), declared
            )
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        fields = upload.validated_data
        image = fields["image"]
        if image.size > settings.SOFAR_MAX_UPLOAD_BYTES:
            raise too_large(_("The file is %(size)d bytes, over the limit of %(limit)d bytes (SOFAR_MAX_UPLOAD_BYTES)."), image.size)

        version = None
        if fields["classify"]:
            version = ModelVersion.objects.active()
            if version is None:
                raise Conflict(_("No model version is active, so the photo cannot be classified now; upload it without classify."))

        try:
            photo, created = store_photo(
                Upload(
                    data=image.read(),
                    original_name=image.name or "",
                    plate=fields.get("car", ""),
                    reservation_id=fields.get("reservation", ""),
                    event=fields["event"],
                    taken_at=fields.get("taken_at"),
                )
            )
        except InvalidImage as error:
            raise ValidationError({"image": [str(error)]}) from None
        queued = version is not None and queue_classification(photo, version)
        logger.info("user %s uploaded photo %s (new: %s, classification queued: %s)", request.user.pk, photo.pk, created, queued)

        photo = self.get_queryset().get(pk=photo.pk)
        body = PhotoSerializer(photo, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(summary="List predictions", responses={200: PredictionSerializer(many=True)}),
    retrieve=extend_schema(summary="Show a prediction", responses={200: PredictionSerializer}),
)
class PredictionViewSet(CachedListMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PredictionSerializer
    filterset_class = PredictionFilter
    required_permissions = {"list": "inspection.view_photo", "retrieve": "inspection.view_photo"}

    def get_queryset(self):
        # The serializer shows only the version's name; its reports are JSON that every row would decode.
        return Prediction.objects.select_related("model_version", "top1_label", "top2_label").defer(
            "model_version__metrics", "model_version__evaluation", "model_version__training_settings"
        )
