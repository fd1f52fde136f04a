"""Let the labeling admin role read the audit log."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE = "labeling admin"


def grant_view(apps, schema_editor):
    # Permissions are normally created after all migrations; this one needs them now.
    audit_config = apps.get_app_config("audit")
    audit_config.models_module = True
    create_permissions(audit_config, apps=apps, verbosity=0)
    audit_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=ROLE)
    group.permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditentry"))


def revoke_view(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(content_type__app_label="audit", codename="view_auditentry").first()
    group = Group.objects.filter(name=ROLE).first()
    if group and permission:
        group.permissions.remove(permission)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("inspection", "0004_roles"),
    ]

    operations = [migrations.RunPython(grant_view, revoke_view)]
