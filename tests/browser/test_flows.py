"""The three roles' main flows in headless Chromium, keyboard first, with a screenshot per screen."""
import csv
import io

import pytest

from inspection.models import Car, Review, TrainingLabel, WorkOrder
from inspection.roles import INSPECTOR, LABELING_ADMIN, OPERATIONS_MANAGER
from inspection.services.labels import current_training_label
from inspection.services.orders import dispatch_order
from inspection.services.relabel import training_label_count
from tests.browser.conftest import log_in
from tests.inspection_data import label, make_photo, make_version, predict, user_in_role

# The live server thread reads what the test commits, so each test runs outside a transaction.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def wait_reviewed(page, photo):
    page.wait_for_selector(f"#photo-{photo.pk}.reviewed")


def test_inspector_clears_queue_with_keyboard(page, screenshot):
    user_in_role("mina", INSPECTOR)
    version = make_version()
    first = make_photo(plate="12가3456", reservation_id="R-1")
    predict(first, version, top1="DIRT", p1=0.95, top2="NORMAL", p2=0.03)
    second = make_photo(plate="12가3456", reservation_id="R-1")
    predict(second, version, top1="DIRT", p1=0.6, top2="DEFECT", p2=0.3)
    third = make_photo(plate="34나5678", reservation_id="R-2")
    predict(third, version, top1="DEFECT", p1=0.5, top2="NORMAL", p2=0.4)

    log_in(page, "mina")
    page.goto(page.base_url + "/queue/")
    assert "검수 대기열" in page.title()
    screenshot("queue")

    page.keyboard.press("j")
    page.keyboard.press("c")
    wait_reviewed(page, first)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    wait_reviewed(page, second)
    page.keyboard.press("i")
    wait_reviewed(page, third)
    page.keyboard.press("k")
    page.keyboard.press("w")
    page.wait_for_selector(".car-card [data-order]")
    screenshot("reviewed")

    assert list(Review.objects.order_by("created_at", "id").values_list("photo_id", "action")) == [
        (first.pk, Review.Action.CONFIRM),
        (second.pk, Review.Action.CORRECT),
        (third.pk, Review.Action.IRRELEVANT),
    ]
    assert list(current_training_label(second).labels.values_list("code", flat=True)) == ["DEFECT"]
    order = WorkOrder.objects.get()
    assert (order.car.plate, order.kind) == ("12가3456", WorkOrder.Kind.WASH)

    page.select_option("#language", "en")
    page.wait_for_selector("html[lang=en]")
    assert "Inspection queue" in page.title()
    screenshot("queue-english")
    page.select_option("#language", "ko")
    page.wait_for_selector("html[lang=ko]")
    assert "검수 대기열" in page.title()


def test_operations_manager_exports_csv(page, screenshot):
    inspector = user_in_role("mina", INSPECTOR)
    user_in_role("sora", OPERATIONS_MANAGER)
    gangnam = Car.objects.create(plate="12가3456", zone="강남")
    mapo = Car.objects.create(plate="34나5678", zone="=마포")
    dispatch_order(gangnam, WorkOrder.Kind.WASH, inspector, labels=[label("DIRT")])
    dispatch_order(mapo, WorkOrder.Kind.REPAIR, inspector, labels=[label("DEFECT")])

    log_in(page, "sora")
    page.goto(page.base_url + "/orders/")
    assert page.locator("[data-order]").count() == 2
    screenshot("orders")
    with page.expect_download() as download_info:
        page.click("[data-export=csv]")
    data = download_info.value.path().read_bytes()

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "차량 번호"
    assert sorted((row[1], row[2], row[3]) for row in rows[1:]) == [("12가3456", "강남", "세차"), ("34나5678", "'=마포", "수리")]


def test_labeling_admin_relabels_photo(page, screenshot):
    admin = user_in_role("hana", LABELING_ADMIN)
    version = make_version()
    photo = make_photo(plate="12가3456")
    predict(photo, version, top1="DIRT", p1=0.9)
    before = training_label_count()

    log_in(page, "hana")
    page.goto(page.base_url + "/labeling/relabel/")
    screenshot("relabel")
    page.check(f"input[name=photos][value='{photo.pk}']")
    page.check("input[name=labels][value=DIRT]")
    page.click("#relabel-form button[type=submit]")
    page.wait_for_selector(f"[data-training-label-count='{before + 1}']")
    screenshot("relabelled")

    current = current_training_label(photo)
    assert (current.source, current.author) == (TrainingLabel.Source.ADMIN, admin)
    assert list(current.labels.values_list("code", flat=True)) == ["DIRT"]


def test_labeling_admin_screens_render(page, screenshot):
    user_in_role("hana", LABELING_ADMIN)
    version = make_version(metrics={"accuracy": 0.9, "confusion_matrix": {"labels": ["DIRT", "NORMAL"], "matrix": [[9, 1], [2, 8]]}})
    photo = make_photo(plate="12가3456")
    predict(photo, version)

    log_in(page, "hana")
    for step, path, selector in [
        ("photo", f"/photos/{photo.pk}/", "#full-photo"),
        ("labels", "/labeling/labels/", "[data-label=DIRT]"),
        ("models", "/labeling/models/", "table.heatmap"),
        ("dashboard", "/dashboard/", "[data-count=uploaded]"),
    ]:
        page.goto(page.base_url + path)
        page.wait_for_selector(selector)
        screenshot(step)


def test_wash_key_on_photo_without_car_explains_why(page):
    user_in_role("mina", INSPECTOR)
    photo = make_photo(plate="", reservation_id="")
    predict(photo, make_version(), top1="DIRT", p1=0.9, top2="NORMAL", p2=0.05)

    log_in(page, "mina")
    page.goto(page.base_url + "/queue/")
    page.keyboard.press("j")
    page.keyboard.press("w")

    message = page.wait_for_selector(".messages .message.error")
    assert "차량 정보가 없어" in message.text_content()
    assert not WorkOrder.objects.exists()
