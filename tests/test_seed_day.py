"""manage.py seed_day fills one day with photos and predictions for load tests."""
import datetime

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from inference.models import Prediction
from inference.services.days import photos_uploaded_on
from inference.services.seeding import PLACEHOLDER_NAME
from inspection.models import Photo

DAY = datetime.date(2026, 3, 2)


@pytest.mark.django_db
def test_seed_day_inserts_photos_with_one_prediction_each():
    call_command("seed_day", date=DAY, photos=40, cars=5)

    photos = photos_uploaded_on(Photo.objects.all(), DAY)
    assert photos.count() == 40
    assert Prediction.objects.filter(photo__in=photos).count() == 40
    assert photos.values("car").distinct().count() == 5
    assert set(photos.values_list("file", flat=True)) == {PLACEHOLDER_NAME}
    assert default_storage.exists(PLACEHOLDER_NAME)


@pytest.mark.django_db
def test_seed_day_leaves_other_days_empty():
    call_command("seed_day", date=DAY, photos=16, cars=2)

    assert photos_uploaded_on(Photo.objects.all(), DAY - datetime.timedelta(days=1)).count() == 0
    assert photos_uploaded_on(Photo.objects.all(), DAY + datetime.timedelta(days=1)).count() == 0


@pytest.mark.django_db
def test_seed_day_rejects_a_seeded_day():
    call_command("seed_day", date=DAY, photos=8, cars=1)

    with pytest.raises(CommandError, match="already seeded"):
        call_command("seed_day", date=DAY, photos=8, cars=1)
