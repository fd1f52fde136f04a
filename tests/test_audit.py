"""The audit log: model activations and threshold edits record who, when, before and after."""
import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from django.utils import translation

from audit.models import AuditEntry
from audit.services import history, record
from inference.services.versions import InvalidThreshold, activate_version, set_threshold
from tests.factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_messages():
    with translation.override("en"):
        yield


def test_threshold_edit_records_before_and_after():
    admin = User.objects.create_user("admin-kim")
    version = make_version(threshold=1.5)

    set_threshold(version, "2.25", admin)

    version.refresh_from_db()
    entry = history(version).get()
    assert version.ood_threshold == 2.25
    assert (entry.actor, entry.actor_name, entry.action) == (admin, "admin-kim", "model_version.set_threshold")
    assert (entry.before, entry.after) == ({"ood_threshold": 1.5}, {"ood_threshold": 2.25})


@pytest.mark.parametrize("value", ["nan", "inf", "abc", None])
def test_invalid_threshold_is_rejected_and_not_recorded(value):
    version = make_version(threshold=1.5)

    with pytest.raises(InvalidThreshold, match="OOD threshold"):
        set_threshold(version, value, User.objects.create_user("admin-lee"))

    version.refresh_from_db()
    assert version.ood_threshold == 1.5
    assert not AuditEntry.objects.exists()


def test_activation_records_the_previous_version():
    first = make_version(name="v-first")
    second = make_version(name="v-second", active=False)

    activate_version(second, User.objects.create_user("admin-park"))

    first.refresh_from_db()
    entry = history(second).get()
    assert not first.is_active
    assert (entry.before, entry.after) == ({"active_version": "v-first"}, {"active_version": "v-second"})


def test_entry_without_actor_is_the_system():
    version = make_version()

    entry = record(None, "model_version.activate", version)

    assert (entry.actor, entry.actor_name) == (None, "")
    assert str(entry).startswith("system ")


def test_entry_keeps_the_name_of_a_deleted_actor():
    admin = User.objects.create_user("admin-choi")
    entry = record(admin, "model_version.activate", make_version())

    admin.delete()

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name) == (None, "admin-choi")


def test_labeling_admins_read_the_log_and_nobody_edits_it():
    reader = User.objects.create_user("admin-jung", is_staff=True)
    reader.groups.add(Group.objects.get(name="labeling admin"))
    request = RequestFactory().get("/admin/audit/auditentry/")
    request.user = User.objects.get(pk=reader.pk)
    model_admin = site._registry[AuditEntry]

    assert reader.has_perm("audit.view_auditentry")
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
