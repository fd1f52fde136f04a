"""The inspector's daily queue and the actions on its photos and cars, for htmx and plain forms."""
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from inspection import shared_cache
from inspection.forms import QueueFilterForm
from inspection.models import Car, Label, Photo, Review, WorkOrder
from inspection.services.orders import InvalidOrder, InvalidTransition, dispatch_order, labels_calling_for, withdraw_dispatch
from inspection.services.queue import ood_count, ood_page, queue_item, queue_page
from inspection.services.reviews import InvalidReview, last_review, submit_review, undo_review
from inspection.views.access import permission_required, safe_next
from inspection.views.shared_fragments import orders_slot, personalise, render_shared

logger = logging.getLogger(__name__)

# Keys 1-9 then 0 select the first ten labels of the scheme when correcting a prediction.
SHORTCUT_KEYS = "1234567890"
# The URLs of each photo card. reverse() once per photo and name cost a queue page about 15 ms.
PHOTO_URL_NAMES = ("photo_detail", "photo_thumbnail", "review", "undo")
PK_SLOT = 987654321


def set_photo_urls(items):
    """Set `urls` on each queue item: {URL name: path for its photo}, reversing each name once."""
    pieces = {name: reverse(f"inspection:{name}", args=[PK_SLOT]).split(str(PK_SLOT)) for name in PHOTO_URL_NAMES}
    for item in items:
        item.urls = {name: f"{prefix}{item.photo.pk}{suffix}" for name, (prefix, suffix) in pieces.items()}


def correction_choices():
    """Render the label checkboxes of the correction form, the same on every photo of a page."""
    labels = list(Label.objects.active())
    keyed = [(SHORTCUT_KEYS[index] if index < len(SHORTCUT_KEYS) else "", label) for index, label in enumerate(labels)]
    return render_to_string("queue/_correction_choices.html", {"correction_labels": keyed})


def open_orders_by_car(car_ids):
    orders = {}
    for order in WorkOrder.objects.filter(car_id__in=car_ids, status__in=WorkOrder.OPEN_STATUSES):
        orders.setdefault(order.car_id, []).append(order)
    return orders


@permission_required("inspection.view_queue")
def queue(request):
    form = QueueFilterForm(request.GET or None, initial={"date": timezone.localdate()})
    filters, day = form.queue_filters()
    can_review = request.user.has_perm("inspection.review_photo")
    can_dispatch = request.user.has_perm("inspection.dispatch_order")

    def build():
        return queue_content(request, form, filters, day, can_review, can_dispatch)

    # The queue of a day is the same for everyone with the same rights. Only the CSRF token
    # and the withdraw buttons of one's own orders differ, and personalise() fills those in.
    parts = ("queue-page", request.get_full_path(), get_language(), can_review, can_dispatch)
    content = shared_cache.cached(parts, build, day=day)
    return render(request, "queue/page.html", {"content": personalise(request, content, open_orders_by_car)})


def queue_content(request, form, filters, day, can_review, can_dispatch):
    """Render the filters, tabs and cards of the queue, with placeholders for each user's parts."""
    tab = "irrelevant" if request.GET.get("tab") == "irrelevant" else "queue"
    groups, next_cursor, ood_items, ood_next_cursor = [], "", [], ""
    if tab == "irrelevant":
        ood_items, ood_next_cursor = ood_page(day, after=request.GET.get("ood_after", ""))
    else:
        groups, next_cursor = queue_page(day, filters, after=request.GET.get("after", ""))
    for group in groups:
        group.orders_slot = orders_slot(group.car.pk) if group.car else ""
    set_photo_urls([item for group in groups for item in group.items] + ood_items)

    context = {
        "form": form,
        "day": day,
        "tab": tab,
        "groups": groups,
        "ood_items": ood_items,
        "ood_count": ood_count(day),
        "next_cursor": next_cursor,
        "ood_next_cursor": ood_next_cursor,
        "is_first_page": not request.GET.get("after") and not request.GET.get("ood_after"),
        "correction_choices": correction_choices(),
        "can_review": can_review,
        "can_dispatch": can_dispatch,
    }
    return render_shared(request, "queue/_content.html", context)


def render_photo(request, photo, message="", is_error=False):
    item = queue_item(photo)
    set_photo_urls([item])
    context = {
        "item": item,
        "correction_choices": correction_choices(),
        "can_review": request.user.has_perm("inspection.review_photo"),
        "message": message,
        "is_error": is_error,
    }
    return render(request, "queue/_photo.html", context)


def photo_action_response(request, photo, message, is_error=False):
    """Re-render the photo for htmx, or go back to the page a plain form came from."""
    if is_error:
        logger.info("action on photo %s by user %s rejected: %s", photo.pk, request.user.pk, message)
    if request.htmx:
        return render_photo(request, photo, message, is_error)
    (messages.error if is_error else messages.success)(request, message)
    return redirect(safe_next(request, reverse("inspection:queue")))


@permission_required("inspection.review_photo")
def review(request, pk):
    if request.method != "POST":
        return redirect("inspection:queue")
    photo = get_object_or_404(Photo, pk=pk)
    action = request.POST.get("action", "")
    labels = Label.objects.filter(code__in=request.POST.getlist("labels"))
    revision = request.POST.get("revision", "")

    try:
        if action not in Review.Action.values:
            raise InvalidReview(_("Unknown review action %(action)s.") % {"action": action})
        # isdecimal, not isdigit: "²" is a digit that int() rejects.
        if revision and not (revision.isascii() and revision.isdecimal()):
            raise InvalidReview(_("The photo revision %(value)s is not a number.") % {"value": revision})
        saved = submit_review(photo, request.user, action, labels, expected_revision=int(revision) if revision else None)
    except InvalidReview as error:
        return photo_action_response(request, photo, str(error), is_error=True)

    return photo_action_response(request, photo, _("Saved: %(action)s.") % {"action": saved.get_action_display()})


@permission_required("inspection.review_photo")
def undo(request, pk):
    if request.method != "POST":
        return redirect("inspection:queue")
    photo = get_object_or_404(Photo, pk=pk)
    latest = last_review(photo, user=request.user)
    if latest is None:
        return photo_action_response(request, photo, _("You have no review of this photo to undo."), is_error=True)

    try:
        undo_review(latest, request.user)
    except (InvalidReview, PermissionDenied) as error:
        return photo_action_response(request, photo, str(error), is_error=True)

    return photo_action_response(request, photo, _("Your last review of this photo was undone."))


@permission_required("inspection.dispatch_order")
def dispatch(request, car_pk):
    if request.method != "POST":
        return redirect("inspection:queue")
    car = get_object_or_404(Car, pk=car_pk)
    kind = request.POST.get("kind", "")
    photo_ids = [value for value in request.POST.getlist("photos") if value.isascii() and value.isdecimal()]
    photos = list(Photo.objects.filter(car=car, pk__in=photo_ids))
    # The order carries the labels of its photos that call for its kind of work, such as Dirt for a wash.
    labels = labels_calling_for(kind, photos)

    try:
        order, created = dispatch_order(car, kind, request.user, photos=photos, labels=labels)
    except InvalidOrder as error:
        message, is_error = str(error), True
    else:
        is_error = False
        if created:
            message = _("%(kind)s dispatched for %(plate)s.") % {"kind": order.get_kind_display(), "plate": car.plate}
        else:
            message = _("%(plate)s already has an open %(kind)s order; the photos were added to it.") % {
                "kind": order.get_kind_display(), "plate": car.plate,
            }

    if not request.htmx:
        (messages.error if is_error else messages.success)(request, message)
        return redirect(safe_next(request, reverse("inspection:queue")))
    return render_car_orders(request, car, message, is_error)


def render_car_orders(request, car, message, is_error):
    context = {
        "car": car,
        "open_orders": open_orders_by_car([car.pk]).get(car.pk, []),
        "message": message,
        "is_error": is_error,
    }
    return render(request, "queue/_car_orders.html", context)


@permission_required("inspection.dispatch_order")
def withdraw(request, pk):
    if request.method != "POST":
        return redirect("inspection:queue")
    order = get_object_or_404(WorkOrder.objects.select_related("car"), pk=pk)

    try:
        withdraw_dispatch(order, request.user)
    except (InvalidTransition, PermissionDenied) as error:
        message, is_error = str(error), True
    else:
        message = _("%(kind)s order for %(plate)s withdrawn.") % {"kind": order.get_kind_display(), "plate": order.car.plate}
        is_error = False

    if not request.htmx:
        (messages.error if is_error else messages.success)(request, message)
        return redirect(safe_next(request, reverse("inspection:queue")))
    return render_car_orders(request, order.car, message, is_error)
