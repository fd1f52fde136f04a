"""Seed the label scheme with the ten labels of the SOFAR image dataset."""
from django.db import migrations

LABELS = [
    # code, English, Korean, action, dataset folder aliases
    ("NORMAL", "Normal", "정상", "none", []),
    ("DEFECT", "Defect", "파손", "repair", ["DAMAGE", "CAR_DAMAGE"]),
    ("DIRT", "Dirt", "오염", "wash", ["DIRTY"]),
    ("BUBBLE_WASH", "Bubble wash", "거품 세차", "none", []),
    ("WASHING_MACHINE", "Car inside the washing machine", "자동 세차기 안 차량", "none",
     ["CARS_INSIDE_OF_THE_WASHING_MACHINE", "CAR_INSIDE_THE_WASHING_MACHINE"]),
    ("DASHBOARD", "Dashboard", "대시보드", "none", []),
    ("CUP_HOLDER", "Cup holder", "컵홀더", "none", []),
    ("GLOVEBOX", "Glovebox", "글로브박스", "none", ["GLOVE_BOX"]),
    ("WASHER_FLUID", "Washer fluid", "워셔액", "none", ["WASHER_LIQUID"]),
    ("SEAT", "Seat", "시트", "none", ["SEATS"]),
]


def seed_labels(apps, schema_editor):
    Label = apps.get_model("inspection", "Label")
    for position, (code, name_en, name_ko, action, aliases) in enumerate(LABELS):
        Label.objects.update_or_create(
            code=code,
            defaults={"name_en": name_en, "name_ko": name_ko, "action": action, "aliases": aliases, "position": position},
        )


def remove_labels(apps, schema_editor):
    Label = apps.get_model("inspection", "Label")
    Label.objects.filter(code__in=[row[0] for row in LABELS]).delete()


class Migration(migrations.Migration):
    dependencies = [("inspection", "0001_initial")]

    operations = [migrations.RunPython(seed_labels, remove_labels)]
