"""Calendar days in the configured time zone, which is what "the day's photos" means."""
from datetime import datetime, time, timedelta

from django.utils import timezone


def day_bounds(day):
    """Return the aware [start, end) datetimes of `day` in the current time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start, end


def yesterday():
    return timezone.localdate() - timedelta(days=1)


def photos_uploaded_on(queryset, day):
    start, end = day_bounds(day)
    return queryset.filter(uploaded_at__gte=start, uploaded_at__lt=end)
