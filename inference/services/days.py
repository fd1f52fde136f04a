"""Calendar days in the configured time zone, which is what "the day's photos" means."""
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

# Days outside this range overflow when converted to an aware datetime (year 1 or 9999)
# and no photo of this service can carry them.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


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


def validate_day(day):
    """Reject a day outside the range photos can have, with a translated message."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            _("%(day)s is out of range; use a day from %(first)s to %(last)s."),
            code="out_of_range",
            params={"day": day, "first": FIRST_DAY, "last": LAST_DAY},
        )


def iso_date(value):
    """Parse a `YYYY-MM-DD` command-line argument; argparse reports the ValueError."""
    day = parse_date(value)
    if day is None:
        raise ValueError(value)
    return day


def parse_day(value):
    """Return the day of an ISO `YYYY-MM-DD` string, or None when it is invalid or out of range."""
    try:
        day = parse_date(value or "")
    except ValueError:
        return None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        return None
    return day
