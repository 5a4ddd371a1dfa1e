"""The incidents stage's side of retention (found by vigil.core.retention's autodiscovery).

When raw reports are purged, their links to incidents go with them. The incident itself
stays, with its report count, channels and timeline, as the network's record that something
happened there and then; it never held the reporters' words, places or numbers.
"""

from __future__ import annotations

from typing import Any

from vigil.core.retention import on_report_purge
from vigil.incidents.models import IncidentReport


@on_report_purge("incidents.incidentreport")
def unlink_purged_reports(report_ids: list[Any]) -> int:
    deleted, _ = IncidentReport.objects.filter(report_id__in=report_ids).delete()
    return deleted
