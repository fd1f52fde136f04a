import logging

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from inspection.models import Photo
from inspection.services.queue import day_ood_items, day_queue

logger = logging.getLogger(__name__)


@login_required
def queue(request):
    day = timezone.localdate()
    error = None
    if request.GET.get("date"):
        day = parse_date(request.GET["date"]) or day
        if parse_date(request.GET["date"]) is None:
            error = _("%(value)s is not a date; showing today.") % {"value": request.GET["date"]}

    context = {
        "day": day,
        "groups": day_queue(day),
        "ood_items": day_ood_items(day),
        "error": error,
    }
    return render(request, "queue/page.html", context)


@login_required
def photo_file(request, pk, kind):
    """Serve a photo or its thumbnail to logged-in users only, never from a public media URL."""
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
