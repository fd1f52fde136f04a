import datetime

import pytest
from django.urls import reverse

from inspection.models import Review, TrainingLabel, WorkOrder
from inspection.roles import INSPECTOR
from inspection.services.labels import current_training_label
from tests.inspection_data import make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def inspector(client):
    user = user_in_role("mina", INSPECTOR)
    client.force_login(user)
    return user


@pytest.fixture
def version():
    return make_version()


@pytest.fixture
def dirty_photo(version):
    photo = make_photo(plate="12가3456", reservation_id="R-1")
    predict(photo, version, top1="DIRT", p1=0.9, top2="NORMAL", p2=0.05)
    return photo


def test_queue_lists_most_urgent_car_first(client, inspector, version):
    calm = make_photo(plate="11가1111")
    predict(calm, version, top1="NORMAL", p1=0.6, top2="DIRT", p2=0.3)
    urgent = make_photo(plate="22나2222")
    predict(urgent, version, top1="DEFECT", p1=0.95, top2="DIRT", p2=0.03)

    content = client.get(reverse("inspection:queue")).content.decode()

    assert content.index("22나2222") < content.index("11가1111")


def test_queue_keeps_ood_photos_in_their_tab(client, inspector, version):
    photo = make_photo(plate="33다3333")
    predict(photo, version, top1="DIRT", p1=0.5, top2="NORMAL", p2=0.4, is_ood=True, max_logit=0.5)

    queue = client.get(reverse("inspection:queue")).content.decode()
    irrelevant = client.get(reverse("inspection:queue"), {"tab": "irrelevant"}).content.decode()

    assert f'data-photo="{photo.pk}"' not in queue
    assert f'data-photo="{photo.pk}"' in irrelevant


def test_queue_shows_chosen_day(client, inspector, version):
    day = datetime.date(2026, 3, 1)
    photo = make_photo(day=day, plate="44라4444")
    predict(photo, version)

    today = client.get(reverse("inspection:queue")).content.decode()
    that_day = client.get(reverse("inspection:queue"), {"date": "2026-03-01"}).content.decode()

    assert "44라4444" not in today
    assert "44라4444" in that_day


def test_queue_filters_by_label_and_probability(client, inspector, version):
    dirty = make_photo(plate="55마5555")
    predict(dirty, version, top1="DIRT", p1=0.4, top2="NORMAL", p2=0.3)
    damaged = make_photo(plate="66바6666")
    predict(damaged, version, top1="DEFECT", p1=0.8, top2="NORMAL", p2=0.1)

    defects = client.get(reverse("inspection:queue"), {"label": "DEFECT"}).content.decode()
    confident = client.get(reverse("inspection:queue"), {"min_probability": "0.5"}).content.decode()

    assert "66바6666" in defects
    assert "55마5555" not in defects
    assert "66바6666" in confident
    assert "55마5555" not in confident


def test_reviewed_filter_hides_reviewed_photos(client, inspector, dirty_photo):
    client.post(reverse("inspection:review", args=[dirty_photo.pk]), {"action": "confirm"}, **HTMX)

    unreviewed = client.get(reverse("inspection:queue"), {"reviewed": "no"}).content.decode()
    reviewed = client.get(reverse("inspection:queue"), {"reviewed": "yes"}).content.decode()

    assert f'data-photo="{dirty_photo.pk}"' not in unreviewed
    assert f'data-photo="{dirty_photo.pk}"' in reviewed


def test_pages_skip_nothing_while_reviewing(client, inspector, version, settings):
    photos = []
    for index in range(25):
        photo = make_photo(plate=f"{index:02d}가{index:04d}")
        predict(photo, version, top1="DIRT", p1=0.5 + index / 100, top2="NORMAL", p2=0.1)
        photos.append(photo)
    first = client.get(reverse("inspection:queue"), {"reviewed": "no"})
    for group in first.context["groups"]:
        client.post(reverse("inspection:review", args=[group.items[0].photo.pk]), {"action": "confirm"}, **HTMX)

    second = client.get(reverse("inspection:queue"), {"reviewed": "no", "after": first.context["next_cursor"]})

    seen = {group.items[0].photo.pk for group in first.context["groups"]}
    seen |= {group.items[0].photo.pk for group in second.context["groups"]}
    assert len(first.context["groups"]) == 20
    assert seen == {photo.pk for photo in photos}


def test_confirm_with_htmx_returns_reviewed_photo(client, inspector, dirty_photo):
    response = client.post(
        reverse("inspection:review", args=[dirty_photo.pk]), {"action": "confirm", "revision": "0"}, **HTMX
    )

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'class="photo reviewed"' in response.content
    assert current_training_label(dirty_photo).source == TrainingLabel.Source.INSPECTOR


def test_correct_with_two_labels(client, inspector, dirty_photo):
    client.post(
        reverse("inspection:review", args=[dirty_photo.pk]),
        {"action": "correct", "labels": ["DIRT", "DEFECT"]},
        **HTMX,
    )

    codes = sorted(current_training_label(dirty_photo).labels.values_list("code", flat=True))
    assert codes == ["DEFECT", "DIRT"]


def test_stale_revision_shows_error_and_saves_nothing(client, inspector, dirty_photo):
    client.post(reverse("inspection:review", args=[dirty_photo.pk]), {"action": "confirm", "revision": "0"}, **HTMX)

    response = client.post(
        reverse("inspection:review", args=[dirty_photo.pk]), {"action": "irrelevant", "revision": "0"}, **HTMX
    )

    assert b'class="error"' in response.content
    assert Review.objects.count() == 1


def test_plain_form_review_redirects_back(client, inspector, dirty_photo):
    response = client.post(
        reverse("inspection:review", args=[dirty_photo.pk]), {"action": "irrelevant", "next": "/queue/?reviewed=no"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/queue/?reviewed=no"
    assert current_training_label(dirty_photo).is_irrelevant


def test_review_rejects_unknown_action(client, inspector, dirty_photo):
    response = client.post(reverse("inspection:review", args=[dirty_photo.pk]), {"action": "delete"}, **HTMX)

    assert b'class="error"' in response.content
    assert not Review.objects.exists()


@pytest.mark.parametrize("action", ["confirm", "irrelevant"])
def test_action_on_unclassified_photo_keeps_its_card(client, inspector, action):
    photo = make_photo(plate="55마5555")

    review = client.post(reverse("inspection:review", args=[photo.pk]), {"action": action}, **HTMX).content.decode()
    undo = client.post(reverse("inspection:undo", args=[photo.pk]), **HTMX).content.decode()

    # htmx swaps the card whole, so every response must be the card with its id and links.
    for card in (review, undo):
        assert f'id="photo-{photo.pk}"' in card
        assert f'href="{reverse("inspection:photo_detail", args=[photo.pk])}"' in card


def test_confirm_of_unclassified_photo_is_rejected(client, inspector):
    photo = make_photo(plate="55마5555")

    card = client.post(reverse("inspection:review", args=[photo.pk]), {"action": "confirm"}, **HTMX).content.decode()

    assert 'class="error"' in card
    assert not Review.objects.exists()


def test_undo_restores_previous_label(client, inspector, dirty_photo):
    client.post(reverse("inspection:review", args=[dirty_photo.pk]), {"action": "confirm"}, **HTMX)
    client.post(reverse("inspection:review", args=[dirty_photo.pk]), {"action": "irrelevant"}, **HTMX)

    client.post(reverse("inspection:undo", args=[dirty_photo.pk]), **HTMX)

    assert not current_training_label(dirty_photo).is_irrelevant
    assert Review.objects.filter(withdrawn_at__isnull=False).count() == 1


def test_dispatch_twice_keeps_one_open_order(client, inspector, dirty_photo):
    url = reverse("inspection:dispatch", args=[dirty_photo.car_id])

    first = client.post(url, {"kind": "wash", "photos": [dirty_photo.pk]}, **HTMX)
    second = client.post(url, {"kind": "wash", "photos": [dirty_photo.pk]}, **HTMX)

    assert first.status_code == second.status_code == 200
    order = WorkOrder.objects.get()
    assert order.kind == WorkOrder.Kind.WASH
    assert list(order.photos.all()) == [dirty_photo]
    assert list(order.labels.values_list("code", flat=True)) == ["DIRT"]
    assert order.created_by == inspector


def test_queue_page_query_count_is_bounded(client, inspector, version, django_assert_max_num_queries):
    for index in range(10):
        photo = make_photo(plate=f"7{index}사{index:04d}")
        predict(photo, version)

    with django_assert_max_num_queries(20):
        client.get(reverse("inspection:queue"))


def test_photo_page_lists_predictions_and_reviews(client, inspector, dirty_photo, version):
    older = make_version("v0", active=False)
    predict(dirty_photo, older, top1="NORMAL", p1=0.7, top2="DIRT", p2=0.2)
    client.post(reverse("inspection:review", args=[dirty_photo.pk]), {"action": "confirm"}, **HTMX)

    content = client.get(reverse("inspection:photo_detail", args=[dirty_photo.pk])).content.decode()

    assert "v0" in content
    assert "v1" in content
    assert "mina" in content
    assert 'data-zoom="full-photo"' in content


def test_dispatcher_can_withdraw_open_order(client, inspector, dirty_photo):
    client.post(reverse("inspection:dispatch", args=[dirty_photo.car_id]), {"kind": "wash"}, **HTMX)
    order = WorkOrder.objects.get()

    response = client.post(reverse("inspection:withdraw", args=[order.pk]), **HTMX)

    order.refresh_from_db()
    assert order.status == WorkOrder.Status.CANCELLED
    assert f'data-order="{order.pk}"'.encode() not in response.content


def test_other_inspector_cannot_withdraw_order(client, inspector, dirty_photo):
    other = user_in_role("jun", INSPECTOR)
    order = WorkOrder.objects.create(car=dirty_photo.car, kind=WorkOrder.Kind.WASH, created_by=other)

    response = client.post(reverse("inspection:withdraw", args=[order.pk]), **HTMX)

    order.refresh_from_db()
    assert order.status == WorkOrder.Status.OPEN
    assert b'class="error"' in response.content
