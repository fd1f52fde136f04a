import csv
import io
import threading

import pytest
from django.db import connection
from openpyxl import load_workbook

from inspection.models import Car, Label, WorkOrder
from inspection.roles import INSPECTOR
from inspection.services.exports import neutralize_cell, orders_csv, orders_xlsx
from inspection.services.orders import InvalidTransition, change_status, dispatch_order, labels_calling_for
from inspection.services.reviews import submit_review, undo_review
from tests.inspection_data import label, make_photo, make_version, predict, user_in_role


@pytest.fixture
def inspector(db):
    return user_in_role("mina", INSPECTOR)


@pytest.fixture
def car(db):
    return Car.objects.create(plate="12가3456", zone="강남")


@pytest.mark.django_db
def test_second_dispatch_reuses_open_order(car, inspector):
    first, first_created = dispatch_order(car, WorkOrder.Kind.WASH, inspector)
    second, second_created = dispatch_order(car, WorkOrder.Kind.WASH, inspector, labels=[label("DIRT")])

    assert first_created and not second_created
    assert first.pk == second.pk
    assert WorkOrder.objects.count() == 1
    assert list(second.labels.values_list("code", flat=True)) == ["DIRT"]


@pytest.mark.django_db
def test_dispatch_after_done_opens_new_order(car, inspector):
    order, _ = dispatch_order(car, WorkOrder.Kind.REPAIR, inspector)
    change_status(order, WorkOrder.Status.DISPATCHED, inspector)
    change_status(order, WorkOrder.Status.DONE, inspector)

    again, created = dispatch_order(car, WorkOrder.Kind.REPAIR, inspector)

    assert created
    assert again.pk != order.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatches_make_one_order(car, inspector):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serializes writers; the race needs two real connections to PostgreSQL")
    barrier = threading.Barrier(4)
    results = []

    def dispatch():
        barrier.wait()
        try:
            results.append(dispatch_order(car, WorkOrder.Kind.WASH, inspector))
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert WorkOrder.objects.filter(car=car, kind=WorkOrder.Kind.WASH).count() == 1
    assert len({order.pk for order, _ in results}) == 1
    assert sum(created for _, created in results) == 1


@pytest.mark.django_db
def test_done_order_cannot_reopen(car, inspector):
    order, _ = dispatch_order(car, WorkOrder.Kind.WASH, inspector)
    change_status(order, WorkOrder.Status.CANCELLED, inspector)

    with pytest.raises(InvalidTransition):
        change_status(order, WorkOrder.Status.DISPATCHED, inspector)
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.CANCELLED


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("강남 1구역", "강남 1구역"),
        (None, ""),
    ],
)
def test_neutralize_cell(value, expected):
    assert neutralize_cell(value) == expected


@pytest.mark.django_db
def test_csv_has_bom_and_neutral_cells(inspector):
    car = Car.objects.create(plate="34나5678", zone="=cmd|' /C calc'!A0")
    photo = make_photo(plate="34나5678")
    dispatch_order(car, WorkOrder.Kind.WASH, inspector, photos=[photo], labels=[label("DIRT")])

    data = orders_csv(WorkOrder.objects.all(), base_url="http://127.0.0.1:8000")

    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][1] == "34나5678"
    assert rows[1][2].startswith("'=")
    assert rows[1][5] == f"http://127.0.0.1:8000/photos/{photo.pk}/"
    assert rows[1][8] == "mina"


@pytest.mark.django_db
def test_xlsx_has_one_row_per_order(car, inspector):
    dispatch_order(car, WorkOrder.Kind.WASH, inspector)
    dispatch_order(car, WorkOrder.Kind.REPAIR, inspector)

    sheet = load_workbook(io.BytesIO(orders_xlsx(WorkOrder.objects.all()))).active
    rows = list(sheet.iter_rows(values_only=True))

    assert len(rows) == 3
    assert {row[1] for row in rows[1:]} == {"12가3456"}


@pytest.mark.django_db
def test_xlsx_cells_are_text_not_formulas(inspector):
    car = Car.objects.create(plate="34나5678", zone="=cmd|' /C calc'!A0")
    dispatch_order(car, WorkOrder.Kind.WASH, inspector)

    sheet = load_workbook(io.BytesIO(orders_xlsx(WorkOrder.objects.all()))).active
    zone = sheet.cell(row=2, column=3)

    assert zone.data_type == "s"
    assert zone.value == "'=cmd|' /C calc'!A0"


def codes(labels):
    return [label.code for label in labels]


@pytest.mark.django_db
def test_order_labels_come_from_the_prediction(inspector):
    photo = make_photo(plate="12가3456")
    predict(photo, make_version(), top1="DIRT", p1=0.7, top2="DEFECT", p2=0.2)

    assert codes(labels_calling_for(WorkOrder.Kind.WASH, [photo])) == ["DIRT"]
    assert codes(labels_calling_for(WorkOrder.Kind.REPAIR, [photo])) == ["DEFECT"]


@pytest.mark.django_db
def test_order_labels_follow_the_review(inspector):
    photo = make_photo(plate="12가3456")
    predict(photo, make_version(), top1="DIRT", p1=0.7, top2="NORMAL", p2=0.2)
    review = submit_review(photo, inspector, "correct", [label("DEFECT")])

    assert codes(labels_calling_for(WorkOrder.Kind.WASH, [photo])) == []
    assert codes(labels_calling_for(WorkOrder.Kind.REPAIR, [photo])) == ["DEFECT"]

    undo_review(review, inspector)
    assert codes(labels_calling_for(WorkOrder.Kind.WASH, [photo])) == ["DIRT"]


@pytest.mark.django_db
def test_order_labels_include_added_labels(inspector):
    droppings = Label.objects.create(code="BIRD_DROPPINGS", name_en="Bird droppings", name_ko="새 배설물", action=Label.Action.WASH, position=99)
    photo = make_photo(plate="12가3456")
    predict(photo, make_version(), top1="BIRD_DROPPINGS", p1=0.6, top2="NORMAL", p2=0.3)
    unclassified = make_photo(plate="12가3456", name="rear.jpg")

    assert codes(labels_calling_for(WorkOrder.Kind.WASH, [photo, unclassified])) == [droppings.code]
