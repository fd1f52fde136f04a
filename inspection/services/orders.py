"""Wash and repair work orders: dispatching them and moving them through their statuses."""
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from audit.services import record
from inference.models import Prediction
from inspection.models import Label, Photo, WorkOrder
from inspection.services.queue import active_reviews

logger = logging.getLogger(__name__)


class InvalidOrder(ValueError):
    """The order cannot be created as requested; the message is translated for the user."""


class InvalidTransition(ValueError):
    """A status change that WorkOrder.TRANSITIONS does not allow."""

    def __init__(self, order, status):
        super().__init__(
            _("A %(current)s order cannot become %(requested)s.")
            % {"current": order.get_status_display(), "requested": WorkOrder.Status(status).label if status in WorkOrder.Status.values else status}
        )
        self.order = order
        self.status = status


def open_order(car, kind):
    return WorkOrder.objects.filter(car=car, kind=kind, status__in=WorkOrder.OPEN_STATUSES).first()


def labels_calling_for(kind, photos):
    """Return the labels of `photos` whose action is `kind` (Dirt for a wash, say), in scheme order.

    A reviewed photo's labels are those an inspector confirmed or corrected in its newest
    review that was not undone. A photo not yet reviewed has the top-2 labels of its newest prediction.
    """
    found = set()
    for photo in Photo.objects.filter(pk__in=[photo.pk for photo in photos]).prefetch_related(
        active_reviews(),
        Prefetch("predictions", queryset=Prediction.objects.filter(is_latest=True), to_attr="latest_predictions"),
    ):
        if photo.active_reviews:
            found.update(label.pk for label in photo.active_reviews[0].labels.all())
        elif photo.latest_predictions:
            prediction = photo.latest_predictions[0]
            found.update((prediction.top1_label_id, prediction.top2_label_id))
    return list(Label.objects.filter(pk__in=found, action=kind).order_by("position", "code"))


def order_contents(order):
    """Describe the photos and labels of `order` for the audit log."""
    return {
        "photos": sorted(order.photos.values_list("pk", flat=True)),
        "labels": sorted(order.labels.values_list("code", flat=True)),
    }


def dispatch_order(car, kind, user, photos=(), labels=()):
    """Dispatch a wash or repair for `car`, or add the photos and labels to its open order.

    Returns (order, created). Two requests at once cannot make two open orders for the same
    car and kind: the partial unique constraint rejects the second insert, which then
    attaches to the order the first one created. A new order, or photos and labels added to
    an open one, are recorded in the audit log.
    """
    if kind not in WorkOrder.Kind.values:
        raise InvalidOrder(_("Unknown work order kind %(kind)s.") % {"kind": kind})
    if car is None:
        raise InvalidOrder(_("This photo has no car recorded, so no order can be dispatched."))

    created = False
    with transaction.atomic():
        order = open_order(car, kind)
        if order is None:
            try:
                # A savepoint, so the outer transaction survives the competing insert's error.
                with transaction.atomic():
                    order = WorkOrder.objects.create(car=car, kind=kind, created_by=user)
                created = True
            except IntegrityError:
                order = open_order(car, kind)
                if order is None:
                    # The competing order was closed in between; the caller may simply retry.
                    raise InvalidOrder(_("The car's orders changed meanwhile; try again.")) from None

        if created:
            order.photos.add(*photos)
            order.labels.add(*labels)
            after = {"car": car.plate, "kind": kind, "status": order.status, **order_contents(order)}
            record(user, "work_order.dispatch", order, after=after)
        else:
            # Lock the order so that a status change cannot close it while photos are added,
            # and so that concurrent additions record what each one found.
            order = WorkOrder.objects.select_for_update().get(pk=order.pk)
            if order.status not in WorkOrder.OPEN_STATUSES:
                raise InvalidOrder(_("The car's orders changed meanwhile; try again."))
            before = order_contents(order)
            order.photos.add(*photos)
            order.labels.add(*labels)
            after = order_contents(order)
            if after != before:
                record(user, "work_order.add", order, before=before, after=after)
    if created:
        logger.info("order %s: %s dispatched for car %s by user %s", order.pk, kind, car.pk, user.pk)
    return order, created


def change_status(order, status, user):
    """Move `order` to `status`, raising InvalidTransition for a move TRANSITIONS does not allow."""
    return _move(order, status, user, "work_order.change_status", WorkOrder.Status.values)


def _move(order, status, user, action, from_statuses):
    """Move `order` to `status` if it is still in one of `from_statuses`, and audit the move."""
    with transaction.atomic():
        locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
        if status not in WorkOrder.Status.values or locked.status not in from_statuses or not locked.can_move_to(status):
            raise InvalidTransition(locked, status)
        previous = locked.status
        locked.status = status
        locked.status_changed_by = user
        locked.save(update_fields=["status", "status_changed_by", "updated_at"])
        record(user, action, locked, before={"status": previous}, after={"status": status})
    logger.info("order %s moved from %s to %s by user %s", order.pk, previous, status, user.pk)
    order.status = locked.status
    order.status_changed_by = user
    order.updated_at = locked.updated_at
    return order


def withdraw_dispatch(order, user):
    """Cancel an order its dispatcher sent by mistake, before anyone acted on it.

    Only the inspector who dispatched it (or a superuser) may, and only while it is open;
    later moves belong to the operations manager. Raises PermissionDenied or InvalidTransition.
    """
    if order.created_by_id != user.pk and not user.is_superuser:
        raise PermissionDenied(_("Only the inspector who dispatched this order can withdraw it."))
    # The status is checked again under the row lock: a manager may dispatch the order
    # between this request's read and its write.
    if order.status != WorkOrder.Status.OPEN:
        raise InvalidTransition(order, WorkOrder.Status.CANCELLED)
    return _move(order, WorkOrder.Status.CANCELLED, user, "work_order.withdraw", [WorkOrder.Status.OPEN])
