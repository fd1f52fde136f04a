"""The operations manager's work orders: a filtered list, status changes and exports."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from inspection.forms import OrderFilterForm
from inspection.models import WorkOrder
from inspection.services.exports import orders_csv, orders_xlsx
from inspection.services.orders import InvalidTransition, change_status
from inspection.views.access import permission_required, safe_next

PAGE_SIZE = 50

EXPORT_TYPES = {
    "csv": ("text/csv; charset=utf-8", orders_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", orders_xlsx),
}


def with_allowed_statuses(orders):
    """Give each order the statuses it may move to, for the buttons of its row."""
    for order in orders:
        order.allowed_statuses = [WorkOrder.Status(status) for status in WorkOrder.Status.values if order.can_move_to(status)]
    return orders


def filtered_orders(request):
    form = OrderFilterForm(request.GET or None)
    orders = WorkOrder.objects.select_related("car", "created_by", "status_changed_by").prefetch_related("labels", "photos")
    return form, form.filter(orders)


@permission_required("inspection.manage_orders")
def order_list(request):
    form, orders = filtered_orders(request)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)

    context = {
        "form": form,
        "page": page,
        "orders": with_allowed_statuses(page.object_list),
        "query": query.urlencode(),
    }
    return render(request, "orders/page.html", context)


@permission_required("inspection.manage_orders")
def order_status(request, pk):
    if request.method != "POST":
        return redirect("inspection:orders")
    order = get_object_or_404(WorkOrder.objects.select_related("car", "created_by"), pk=pk)

    message, is_error = "", False
    try:
        change_status(order, request.POST.get("status", ""), request.user)
    except InvalidTransition as error:
        message, is_error = str(error), True

    if not request.htmx:
        if is_error:
            messages.error(request, message)
        return redirect(safe_next(request, reverse("inspection:orders")))
    order.refresh_from_db()
    with_allowed_statuses([order])
    return render(request, "orders/_row.html", {"order": order, "message": message, "is_error": is_error})


@permission_required("inspection.manage_orders")
def order_export(request, file_type):
    _form, orders = filtered_orders(request)
    content_type, export = EXPORT_TYPES[file_type]

    data = export(orders, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(data, content_type=content_type)
    filename = f"work-orders-{timezone.localdate():%Y%m%d}.{file_type}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

