"""A photo's own page and its image files, which are never served from a public media URL."""
import logging

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from inference.models import Prediction
from inspection.models import Photo, Review, TrainingLabel
from inspection.views.access import permission_required

logger = logging.getLogger(__name__)


@permission_required("inspection.view_photo")
def photo_detail(request, pk):
    photo = get_object_or_404(Photo.objects.select_related("car"), pk=pk)
    predictions = (
        Prediction.objects.filter(photo=photo)
        .select_related("model_version", "top1_label", "top2_label")
        .order_by("-created_at", "-id")
    )
    reviews = Review.objects.filter(photo=photo).select_related("author").prefetch_related("labels")
    training_labels = TrainingLabel.objects.filter(photo=photo).select_related("author").prefetch_related("labels")

    context = {
        "photo": photo,
        "predictions": predictions,
        "reviews": reviews,
        "training_labels": training_labels,
        "current_label": TrainingLabel.objects.current().filter(photo=photo).first(),
    }
    return render(request, "photos/detail.html", context)


@permission_required("inspection.view_photo")
def photo_file(request, pk, kind):
    photo = get_object_or_404(Photo, pk=pk)
    field = photo.thumbnail if kind == "thumbnail" else photo.file
    if not field.name:
        raise Http404(_("This photo has no thumbnail."))
    try:
        handle = default_storage.open(field.name, "rb")
    except FileNotFoundError:
        logger.error("file %s of photo %s is missing from storage", field.name, photo.pk)
        raise Http404(_("The photo's file is missing.")) from None
    response = FileResponse(handle, content_type="image/jpeg" if kind == "thumbnail" else None)
    response["Cache-Control"] = "private, max-age=86400"
    return response
