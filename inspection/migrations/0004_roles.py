"""Create the three role groups with their permissions."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

# A copy of inspection.roles at the time of this migration: a later change of roles
# needs a migration of its own.
ROLE_PERMISSIONS = {
    "inspector": [
        "inspection.view_photo",
        "inspection.view_queue",
        "inspection.review_photo",
        "inspection.upload_photo",
        "inspection.dispatch_order",
    ],
    "operations manager": [
        "inspection.view_photo",
        "inspection.manage_orders",
        "inspection.view_dashboard",
    ],
    "labeling admin": [
        "inspection.view_photo",
        "inspection.view_queue",
        "inspection.upload_photo",
        "inspection.relabel_photo",
        "inspection.manage_labels",
        "inspection.manage_models",
        "inspection.view_dashboard",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; this one needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0003_reviews_and_work_orders"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
