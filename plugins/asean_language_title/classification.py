"""Which columns of the plugin's tables are personal (``liaison_personal_fields``).

An application describes one translator's career: it is personal throughout, except the
workflow's codes, dates and tokens. The certificate number identifies an official document
(sensitive).
"""
from __future__ import annotations

from liaison.models import Sensitivity

N, P, S = Sensitivity.NONE, Sensitivity.NORMAL, Sensitivity.SENSITIVE

APPLICATIONS = "asean_language_title_applications"
EVENTS = "asean_language_title_events"

PERSONAL_FIELDS: dict[str, Sensitivity] = {
    **{f"{APPLICATIONS}.{column}": value for column, value in dict(
        id=N, contact_id=N, station_id=N, language=P, level=P, practice_years=P, current_title=P,
        current_title_since=P, education=P, credentials=P, representative_works=P, documents=N, status=N,
        route=N, route_overridden=N, route_reason=P, certificate_number=S, decision_date=N, submitted_at=N,
        status_changed_at=N, created_by_id=N, submission_token=N, version=N, created_at=N, updated_at=N,
    ).items()},
    **{f"{EVENTS}.{column}": value for column, value in dict(
        id=N, application_id=N, actor_id=N, created_at=N, kind=N, from_value=N, to_value=N, text=P, details=P,
    ).items()},
}
