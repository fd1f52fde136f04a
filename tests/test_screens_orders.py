import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from inspection.models import Car, WorkOrder
from inspection.roles import INSPECTOR, OPERATIONS_MANAGER
from inspection.services.orders import dispatch_order
from tests.inspection_data import label, make_photo, user_in_role

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager(client):
    user = user_in_role("sora", OPERATIONS_MANAGER)
    client.force_login(user)
    return user


@pytest.fixture
def orders():
    inspector = user_in_role("mina", INSPECTOR)
    gangnam = Car.objects.create(plate="12가3456", zone="강남")
    mapo = Car.objects.create(plate="34나5678", zone="마포")
    photo = make_photo(plate="12가3456")
    wash, _ = dispatch_order(gangnam, WorkOrder.Kind.WASH, inspector, photos=[photo], labels=[label("DIRT")])
    repair, _ = dispatch_order(mapo, WorkOrder.Kind.REPAIR, inspector, labels=[label("DEFECT")])
    return wash, repair


def test_list_filters_by_kind_and_zone(client, manager, orders):
    wash, repair = orders

    by_kind = client.get(reverse("inspection:orders"), {"kind": "repair"}).content.decode()
    by_zone = client.get(reverse("inspection:orders"), {"zone": "강남"}).content.decode()

    assert f'data-order="{repair.pk}"' in by_kind
    assert f'data-order="{wash.pk}"' not in by_kind
    assert f'data-order="{wash.pk}"' in by_zone
    assert f'data-order="{repair.pk}"' not in by_zone


def test_list_filters_by_date_range(client, manager, orders):
    content = client.get(reverse("inspection:orders"), {"date_from": "2020-01-01", "date_to": "2020-01-31"}).content.decode()

    assert "data-order=" not in content


def test_status_change_from_list(client, manager, orders):
    wash, _ = orders

    response = client.post(reverse("inspection:order_status", args=[wash.pk]), {"status": "dispatched"}, **HTMX)

    wash.refresh_from_db()
    assert wash.status == WorkOrder.Status.DISPATCHED
    assert wash.status_changed_by == manager
    assert b'data-status="done"' in response.content


def test_invalid_status_change_is_refused(client, manager, orders):
    wash, _ = orders

    response = client.post(reverse("inspection:order_status", args=[wash.pk]), {"status": "done"}, **HTMX)

    wash.refresh_from_db()
    assert wash.status == WorkOrder.Status.OPEN
    assert b'class="error"' in response.content


def test_csv_export_follows_filters(client, manager, orders):
    response = client.get(reverse("inspection:orders_csv"), {"kind": "wash"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response["Content-Disposition"].startswith("attachment;")
    assert len(rows) == 2
    assert rows[1][1] == "12가3456"
    assert rows[1][5].startswith("http://testserver/photos/")


def test_xlsx_export_lists_orders(client, manager, orders):
    response = client.get(reverse("inspection:orders_xlsx"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    plates = sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert plates == ["12가3456", "34나5678"]


def test_order_list_query_count_is_bounded(client, manager, orders, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        client.get(reverse("inspection:orders"))
