"""Reviews, relabels and work order changes leave audit entries; labeling admins read them."""
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from audit.services import history, record
from inspection.models import Car, Review, TrainingLabel, WorkOrder
from inspection.roles import INSPECTOR, LABELING_ADMIN, OPERATIONS_MANAGER
from inspection.services.labels import add_training_label
from inspection.services.orders import InvalidTransition, change_status, dispatch_order, withdraw_dispatch
from inspection.services.relabel import relabel_photos
from inspection.services.reviews import StaleRevision, submit_review, undo_review
from tests.inspection_data import label, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector():
    return user_in_role("mina", INSPECTOR)


@pytest.fixture
def photo():
    photo = make_photo(plate="12가3456")
    predict(photo, make_version(), top1="DIRT", p1=0.7, top2="NORMAL", p2=0.2)
    add_training_label(photo, [label("NORMAL")], TrainingLabel.Source.DATASET)
    return photo


@pytest.fixture
def car(photo):
    return photo.car


def test_review_records_label_before_and_after(photo, inspector):
    review = submit_review(photo, inspector, Review.Action.CONFIRM, expected_revision=0)

    entry = history(photo).get()
    assert (entry.actor, entry.action) == (inspector, "photo.review")
    assert entry.before["labels"] == ["NORMAL"]
    assert entry.before["source"] == "dataset"
    assert entry.before["revision"] == 0
    assert entry.after["labels"] == ["DIRT"]
    assert entry.after["review"] == review.pk
    assert entry.after["action"] == "confirm"
    assert entry.after["revision"] == 1


def test_stale_review_records_nothing(photo, inspector):
    submit_review(photo, inspector, Review.Action.CONFIRM)

    with pytest.raises(StaleRevision):
        submit_review(photo, user_in_role("jisoo", INSPECTOR), Review.Action.IRRELEVANT, expected_revision=0)

    assert list(history(photo).values_list("action", flat=True)) == ["photo.review"]


def test_undo_records_label_that_counts_again(photo, inspector):
    review = submit_review(photo, inspector, Review.Action.CORRECT, labels=[label("DEFECT")])

    undo_review(review, inspector)

    entry = history(photo).filter(action="photo.undo_review").get()
    assert entry.actor == inspector
    assert entry.before["labels"] == ["DEFECT"]
    assert entry.before["review"] == review.pk
    assert entry.after["labels"] == ["NORMAL"]
    assert entry.after["revision"] == 2


def test_relabel_records_each_photo(photo):
    admin = user_in_role("admin-kim", LABELING_ADMIN)
    unlabelled = make_photo(plate="34나5678")

    relabel_photos([photo, unlabelled], [label("DEFECT")], admin)

    labelled_entry = history(photo).get()
    unlabelled_entry = history(unlabelled).get()
    assert (labelled_entry.actor, labelled_entry.action) == (admin, "photo.relabel")
    assert labelled_entry.before["labels"] == ["NORMAL"]
    assert labelled_entry.after["labels"] == ["DEFECT"]
    assert labelled_entry.after["source"] == "admin"
    assert unlabelled_entry.before == {"training_label": None, "revision": 0}


def test_relabel_as_irrelevant_records_no_labels(photo):
    relabel_photos([photo], [label("DEFECT")], user_in_role("admin-kim", LABELING_ADMIN), is_irrelevant=True)

    entry = history(photo).get()
    assert entry.after["labels"] == []
    assert entry.after["is_irrelevant"] is True


def test_dispatch_records_new_order(car, photo, inspector):
    order, _ = dispatch_order(car, WorkOrder.Kind.WASH, inspector, photos=[photo], labels=[label("DIRT")])

    entry = history(order).get()
    assert (entry.actor, entry.action, entry.before) == (inspector, "work_order.dispatch", None)
    assert entry.after == {"car": "12가3456", "kind": "wash", "status": "open", "photos": [photo.pk], "labels": ["DIRT"]}


def test_second_dispatch_records_added_photos(car, photo, inspector):
    order, _ = dispatch_order(car, WorkOrder.Kind.WASH, inspector)
    colleague = user_in_role("jisoo", INSPECTOR)

    dispatch_order(car, WorkOrder.Kind.WASH, colleague, photos=[photo], labels=[label("DIRT")])
    dispatch_order(car, WorkOrder.Kind.WASH, colleague, photos=[photo], labels=[label("DIRT")])

    added = history(order).get(action="work_order.add")
    assert added.actor == colleague
    assert added.before == {"photos": [], "labels": []}
    assert added.after == {"photos": [photo.pk], "labels": ["DIRT"]}


def test_status_change_records_before_and_after(car, inspector):
    manager = user_in_role("manager-lee", OPERATIONS_MANAGER)
    order, _ = dispatch_order(car, WorkOrder.Kind.REPAIR, inspector)

    change_status(order, WorkOrder.Status.DISPATCHED, manager)

    entry = history(order).get(action="work_order.change_status")
    assert entry.actor == manager
    assert (entry.before, entry.after) == ({"status": "open"}, {"status": "dispatched"})


def test_rejected_status_change_records_nothing(car, inspector):
    order, _ = dispatch_order(car, WorkOrder.Kind.REPAIR, inspector)

    with pytest.raises(InvalidTransition):
        change_status(order, WorkOrder.Status.DONE, inspector)

    assert list(history(order).values_list("action", flat=True)) == ["work_order.dispatch"]


def test_withdraw_records_cancellation(car, inspector):
    order, _ = dispatch_order(car, WorkOrder.Kind.WASH, inspector)

    withdraw_dispatch(order, inspector)

    entry = history(order).get(action="work_order.withdraw")
    assert (entry.before, entry.after) == ({"status": "open"}, {"status": "cancelled"})


def test_withdraw_after_manager_dispatched_is_rejected(car, inspector):
    order, _ = dispatch_order(car, WorkOrder.Kind.WASH, inspector)
    loaded_by_inspector = WorkOrder.objects.get(pk=order.pk)
    change_status(order, WorkOrder.Status.DISPATCHED, user_in_role("manager-lee", OPERATIONS_MANAGER))

    with pytest.raises(InvalidTransition):
        withdraw_dispatch(loaded_by_inspector, inspector)

    order.refresh_from_db()
    assert order.status == WorkOrder.Status.DISPATCHED
    assert not history(order).filter(action="work_order.withdraw").exists()


@pytest.fixture
def entries(photo, inspector):
    submit_review(photo, inspector, Review.Action.CONFIRM)
    order, _ = dispatch_order(photo.car, WorkOrder.Kind.WASH, inspector, photos=[photo])
    change_status(order, WorkOrder.Status.DISPATCHED, user_in_role("manager-lee", OPERATIONS_MANAGER))
    return AuditEntry.objects.all()


def test_audit_screen_lists_entries_for_labeling_admin(client, entries):
    client.force_login(user_in_role("admin-kim", LABELING_ADMIN))

    with translation.override("en"):
        response = client.get(reverse("inspection:audit_log"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    rows = response.context["entries"]
    assert [entry.action for entry in rows] == ["work_order.change_status", "work_order.dispatch", "photo.review"]
    page = response.content.decode()
    assert "manager-lee" in page
    assert "Order status changed" in page
    assert "dispatched" in page


def test_audit_screen_filters_by_action_and_actor(client, entries):
    client.force_login(user_in_role("admin-kim", LABELING_ADMIN))

    by_action = client.get(reverse("inspection:audit_log"), {"action": "photo.review"})
    by_actor = client.get(reverse("inspection:audit_log"), {"actor": "manager"})

    assert [entry.action for entry in by_action.context["entries"]] == ["photo.review"]
    assert [entry.actor_name for entry in by_actor.context["entries"]] == ["manager-lee"]


def test_audit_screen_is_in_korean(client, entries):
    client.force_login(user_in_role("admin-kim", LABELING_ADMIN))

    response = client.get(reverse("inspection:audit_log"), HTTP_ACCEPT_LANGUAGE="ko")

    page = response.content.decode()
    assert "감사 기록" in page
    assert "Audit log" not in page


def test_audit_changes_read_in_korean(client, entries):
    client.force_login(user_in_role("admin-kim", LABELING_ADMIN))

    page = client.get(reverse("inspection:audit_log"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    with translation.override("ko"):
        status_name, dispatched = str(_("status")), str(WorkOrder.Status.DISPATCHED.label)
        confirmed, normal, no = str(Review.Action.CONFIRM.label), label("NORMAL").display_name, str(_("No"))
    assert f"<dt>{status_name}</dt>" in page
    assert f"→ {dispatched}</dd>" in page
    assert f"<dd>{confirmed}</dd>" in page
    assert f"<del>{normal}</del>" in page
    assert f"<del>{no}</del>" in page
    assert "<dt>status</dt>" not in page
    assert "false" not in page


def test_audit_target_is_named_in_korean(client, entries):
    client.force_login(user_in_role("admin-kim", LABELING_ADMIN))
    order = WorkOrder.objects.get()

    page = client.get(reverse("inspection:audit_log"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    with translation.override("ko"):
        order_name = f"{capfirst(WorkOrder._meta.verbose_name)} #{order.pk}"
    assert f'title="{order}">{order_name}</td>' in page
    assert "order 1 for</td>" not in page


def test_audit_screen_shows_any_recorded_value(client):
    admin = user_in_role("admin-kim", LABELING_ADMIN)
    order = WorkOrder.objects.create(car=Car.objects.create(plate="56다7890"), kind="wash", created_by=admin)
    record(admin, "work_order.add", order, before={"labels": [], "photos": [3]}, after={"labels": [7, "DIRT"], "photos": [3, 4], "note": {"a": 1}})
    client.force_login(admin)

    response = client.get(reverse("inspection:audit_log"), HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 200
    assert "→ 7, Dirt</dd>" in page
    assert "→ 3, 4</dd>" in page
    assert '{&quot;a&quot;: 1}' in page


@pytest.mark.parametrize("role", [INSPECTOR, OPERATIONS_MANAGER, None])
def test_audit_screen_rejects_other_roles(client, entries, role):
    client.force_login(user_in_role("someone", role))

    response = client.get(reverse("inspection:audit_log"))

    assert response.status_code == 403
    assert "manager-lee" not in response.content.decode()


def test_audit_screen_query_count_is_bounded(client, django_assert_max_num_queries):
    admin = user_in_role("admin-kim", LABELING_ADMIN)
    car = Car.objects.create(plate="56다7890")
    for number in range(30):
        order = WorkOrder.objects.create(car=car, kind="wash", created_by=admin, status="done" if number else "open")
        record(admin, "work_order.change_status", order, before={"status": "open"}, after={"status": "done"})
    client.force_login(admin)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("inspection:audit_log"))

    assert len(response.context["entries"]) == 30
