"""Inspectors acting at the same moment: one review wins a photo, one order per car and kind.

Each contender is a thread with its own database connection, so the row locks and the
unique constraint of the real database decide the races. SQLite takes a write lock for
the whole database at the start of every transaction (transaction_mode IMMEDIATE), so the
same races end the same way there and no test is skipped on it. Only PostgreSQL shows that
the row locks hold, because only there do the transactions overlap.
"""
import os
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from inspection.models import Car, Review, TrainingLabel, WorkOrder
from inspection.roles import INSPECTOR
from inspection.services.labels import current_training_label
from inspection.services.reviews import StaleRevision, submit_review
from tests.inspection_data import label, make_photo, make_version, predict, user_in_role
from tests.reliability import record_race
from tests.review_load import count_lost, run_inspectors

pytestmark = pytest.mark.django_db(transaction=True)

CONTENDERS = 6
# Length of the live-server load; bench/concurrent_reviews.py runs the full minute.
LOAD_SECONDS = float(os.environ.get("SOFAR_REVIEW_LOAD_SECONDS", "15"))
LOAD_INSPECTORS = 50
LOAD_PHOTOS = 60


@pytest.fixture
def photo():
    photo = make_photo(plate="12가3456")
    predict(photo, make_version(), top1="DIRT", p1=0.7, top2="NORMAL", p2=0.2)
    return photo


def inspectors(count):
    return [user_in_role(f"inspector-{number}", INSPECTOR) for number in range(count)]


def at_once(actions):
    """Run each callable in its own thread, released together; return results in order.

    A callable that raises gives its exception as its result. Each thread closes its
    database connection, so the test database can be flushed afterwards.
    """
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        barrier.wait()
        try:
            results[index] = action()
        except Exception as error:  # noqa: BLE001 - the test asserts on the exception
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_same_photo_reviewed_at_once_has_one_winner(photo):
    people = inspectors(CONTENDERS)
    corrections = [label("DEFECT"), label("NORMAL"), label("DIRT")]

    def review_by(index):
        chosen = corrections[index % len(corrections)]
        return lambda: submit_review(photo, people[index], Review.Action.CORRECT, [chosen], expected_revision=0)

    results = at_once([review_by(index) for index in range(CONTENDERS)])

    winners = [result for result in results if isinstance(result, Review)]
    losers = [result for result in results if isinstance(result, StaleRevision)]
    assert len(winners) == 1, results
    assert len(losers) == CONTENDERS - 1, results
    assert all(loser.current == 1 and loser.expected == 0 for loser in losers)
    current = current_training_label(photo)
    assert current.author == winners[0].author
    assert list(current.labels.all()) == list(winners[0].labels.all())
    assert Review.objects.count() == 1
    assert TrainingLabel.objects.filter(source=TrainingLabel.Source.INSPECTOR).count() == 1
    photo.refresh_from_db()
    assert photo.revision == 1
    record_race("same photo, service", CONTENDERS, len(winners), len(losers), 0, Review.objects.count() - len(winners))


def test_api_concurrent_reviews_get_409(photo):
    clients = []
    for person in inspectors(CONTENDERS):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(person)
        clients.append(client)
    body = {"photo": photo.pk, "action": "confirm", "revision": 0}

    responses = at_once([lambda client=client: client.post("/api/v1/reviews/", body, content_type="application/json") for client in clients])

    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * (CONTENDERS - 1)
    conflicts = [response.json() for response in responses if response.status_code == 409]
    assert {conflict["code"] for conflict in conflicts} == {"stale_revision"}
    assert all("reload" in conflict["detail"] for conflict in conflicts)
    winner = next(response.json() for response in responses if response.status_code == 201)
    assert current_training_label(photo).pk == winner["training_label"]["id"]
    assert Review.objects.count() == 1
    record_race("same photo, API", CONTENDERS, codes.count(201), codes.count(409), 0, Review.objects.count() - 1)


def test_screen_reviews_at_once_show_translated_conflict(photo):
    clients = []
    for person in inspectors(CONTENDERS):
        client = Client(HTTP_ACCEPT_LANGUAGE="ko", HTTP_HX_REQUEST="true")
        client.force_login(person)
        clients.append(client)
    url = reverse("inspection:review", args=[photo.pk])
    body = {"action": "correct", "labels": ["DEFECT"], "revision": "0"}

    responses = at_once([lambda client=client: client.post(url, body) for client in clients])

    pages = [response.content.decode() for response in responses]
    assert [response.status_code for response in responses] == [200] * CONTENDERS
    conflicts = [page for page in pages if "그사이 다른 사람이 이 사진을 수정했습니다" in page]
    assert len(conflicts) == CONTENDERS - 1
    assert not any("Someone else changed this photo" in page for page in pages)
    assert Review.objects.count() == 1
    assert [label.code for label in current_training_label(photo).labels.all()] == ["DEFECT"]
    record_race("same photo, screen", CONTENDERS, CONTENDERS - len(conflicts), len(conflicts), 0, Review.objects.count() - 1)


def test_dispatches_at_once_make_one_open_order(photo):
    clients = []
    for person in inspectors(CONTENDERS):
        client = Client()
        client.force_login(person)
        clients.append(client)
    body = {"car": "12가3456", "kind": "wash", "photos": [photo.pk], "labels": ["DIRT"]}

    responses = at_once([lambda client=client: client.post("/api/v1/orders/", body, content_type="application/json") for client in clients])

    codes = sorted(response.status_code for response in responses)
    assert codes == [200] * (CONTENDERS - 1) + [201], [response.content[:200] for response in responses]
    car = Car.objects.get(plate="12가3456")
    open_orders = WorkOrder.objects.filter(car=car, kind="wash", status__in=WorkOrder.OPEN_STATUSES)
    assert open_orders.count() == 1
    assert {response.json()["id"] for response in responses} == {open_orders.get().pk}
    assert list(open_orders.get().photos.all()) == [photo]
    record_race("same car and kind, dispatch (conflicts joined the open order)", CONTENDERS, codes.count(201), codes.count(200), 0, WorkOrder.objects.count() - 1)


def test_fifty_inspectors_lose_no_review(live_server):
    version = make_version()
    photo_ids = []
    for number in range(LOAD_PHOTOS):
        photo = make_photo(plate=f"{10 + number % 80}가{1000 + number}", reservation_id=f"R-{number}")
        predict(photo, version)
        photo_ids.append(photo.pk)
    tokens = [Token.objects.create(user=person).key for person in inspectors(LOAD_INSPECTORS)]

    tally = run_inspectors(live_server.url, tokens, photo_ids, LOAD_SECONDS)

    lost = count_lost(tally, photo_ids)
    record_race(
        f"{LOAD_INSPECTORS} inspectors for {tally.seconds:.0f} s, live server",
        tally.tried, tally.succeeded, tally.conflicts, len(tally.errors), sum(abs(count) for count in lost.values()),
    )
    assert tally.errors == []
    assert tally.succeeded > LOAD_INSPECTORS
    assert tally.tried == tally.succeeded + tally.conflicts
    assert lost == {"reviews": 0, "training_labels": 0, "audit_entries": 0, "photos_with_wrong_revision": 0}
