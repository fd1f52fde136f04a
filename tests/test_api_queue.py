"""The inspector queue through the API: groups per car, filters, cursor pages, OOD apart."""
from datetime import date

import pytest
from rest_framework.test import APIClient

from inspection.models import Review
from inspection.roles import INSPECTOR
from inspection.services.reviews import submit_review
from tests.inspection_data import make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 3)


@pytest.fixture
def inspector():
    return user_in_role("mina", INSPECTOR)


@pytest.fixture
def api(inspector):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(inspector)
    return client


@pytest.fixture
def day_of_photos():
    version = make_version()
    dirty = make_photo(day=DAY, plate="11가1111", reservation_id="R-1")
    predict(dirty, version, top1="DIRT", p1=0.9, top2="NORMAL", p2=0.05)
    damaged = make_photo(day=DAY, plate="22가2222", reservation_id="R-2")
    predict(damaged, version, top1="DEFECT", p1=0.6, top2="DIRT", p2=0.3)
    clean = make_photo(day=DAY, plate="33가3333", reservation_id="R-3")
    predict(clean, version, top1="NORMAL", p1=0.95, top2="SEAT", p2=0.02)
    paper = make_photo(day=DAY, plate="44가4444", reservation_id="R-4")
    predict(paper, version, top1="DIRT", p1=0.5, top2="NORMAL", p2=0.4, is_ood=True, max_logit=0.5)
    return {"dirty": dirty, "damaged": damaged, "clean": clean, "paper": paper}


def test_queue_groups_cars_most_urgent_first(api, day_of_photos):
    body = api.get("/api/v1/queue/", {"date": "2026-12-03"}).json()

    assert [group["car"] for group in body["groups"]] == ["11가1111", "22가2222"]
    assert body["groups"][1]["label_codes"] == ["DIRT", "DEFECT"]
    assert body["groups"][0]["items"][0]["prediction"]["top1_label"] == "DIRT"
    assert body["groups"][0]["urgency"] == 0.9
    assert [item["photo"]["id"] for item in body["ood_items"]] == [day_of_photos["paper"].pk]
    assert body["next"] is None


def test_queue_filters_by_label_and_review(api, day_of_photos, inspector):
    submit_review(day_of_photos["dirty"], inspector, Review.Action.CONFIRM)

    defect_only = api.get("/api/v1/queue/", {"date": "2026-12-03", "label": "DEFECT"}).json()
    unreviewed = api.get("/api/v1/queue/", {"date": "2026-12-03", "reviewed": "no"}).json()
    reviewed = api.get("/api/v1/queue/", {"date": "2026-12-03", "reviewed": "yes"}).json()

    assert [group["car"] for group in defect_only["groups"]] == ["22가2222"]
    assert [group["car"] for group in unreviewed["groups"]] == ["22가2222"]
    assert reviewed["groups"][0]["items"][0]["review"]["action"] == "confirm"


def test_queue_pages_follow_the_cursor(api, day_of_photos):
    first = api.get("/api/v1/queue/", {"date": "2026-12-03", "page_size": 1}).json()
    second = api.get(first["next"]).json()

    assert [group["car"] for group in first["groups"]] == ["11가1111"]
    assert [group["car"] for group in second["groups"]] == ["22가2222"]
    assert second["next"] is None


def test_queue_rejects_bad_date_and_cursor(api):
    bad_date = api.get("/api/v1/queue/", {"date": "2026-13-45", "label": "RUST"})
    bad_cursor = api.get("/api/v1/queue/", {"cursor": "not-a-cursor"})

    assert bad_date.status_code == 400
    assert set(bad_date.json()["fields"]) == {"date", "label"}
    assert bad_cursor.status_code == 404
