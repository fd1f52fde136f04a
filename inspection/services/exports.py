"""Export of work orders to CSV and XLSX for the washing and repair contractors."""
import csv
import io

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

# A spreadsheet evaluates a cell starting with one of these as a formula (CSV injection).
# A leading tab or carriage return can hide such a start from the eye.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value):
    """Return `value` as text that no spreadsheet evaluates as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def order_headers():
    return [
        _("Car ID"), _("Number plate"), _("Zone"), _("Kind"), _("Labels"),
        _("Photo links"), _("Created"), _("Status"), _("Requested by"),
    ]


def order_rows(queryset, base_url=""):
    """Yield one list of neutralised cells per order; `base_url` makes the photo links absolute."""
    base_url = base_url.rstrip("/")
    orders = queryset.select_related("car", "created_by").prefetch_related("labels", "photos")
    for order in orders:
        photo_links = [base_url + reverse("inspection:photo_detail", args=[photo.pk]) for photo in order.photos.all()]
        row = [
            order.car_id,
            order.car.plate,
            order.car.zone,
            order.get_kind_display(),
            ", ".join(label.display_name for label in order.labels.all()),
            " ".join(photo_links),
            timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M"),
            order.get_status_display(),
            order.created_by.get_username(),
        ]
        yield [neutralize_cell(cell) for cell in row]


def orders_csv(queryset, base_url=""):
    """Return the orders as UTF-8 CSV with a byte-order mark, which Excel needs to read Korean."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(order_headers())
    writer.writerows(order_rows(queryset, base_url))
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def orders_xlsx(queryset, base_url=""):
    """Return the orders as an XLSX workbook with one sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Work orders"))
    sheet.append(order_headers())
    for row in order_rows(queryset, base_url):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
