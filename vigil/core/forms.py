"""Form fields every app's staff pages share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input, read in the network's time zone, returned in UTC. Years outside
    2000-2100 are a clear form error: Django's plain field lets 9999-12-31 through, and turning
    it into UTC on save overflows (a 500)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = DATETIME_FORMATS

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        if timezone.is_naive(result):
            result = result.replace(tzinfo=local_zone())
        if not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
            raise forms.ValidationError(gettext("Enter a date between 2000 and 2100."))
        return result.astimezone(UTC)
