"""Which columns of the plugin's tables are personal (``liaison_personal_fields``).

A student record is about one person: where and what they study, their stage and the people to
call in an emergency (sensitive: third parties' phones). Service requests say what help a
person needed (health, counselling: sensitive). Roll-call answers say whether a person was safe
(sensitive). Departments, teams and programmes are institutions' rows.
"""
from __future__ import annotations

from liaison.models import Sensitivity

from .models import PREFIX

N, P, S = Sensitivity.NONE, Sensitivity.NORMAL, Sensitivity.SENSITIVE


def _table(name: str, /, **columns: Sensitivity) -> dict[str, Sensitivity]:
    return {f"{PREFIX}{name}.{column}": value for column, value in columns.items()}


PERSONAL_FIELDS: dict[str, Sensitivity] = {
    **_table("departments", id=N, code=N, name=N, name_zh=N, position=N, active=N),
    **_table("home_teams", id=N, name=N, name_zh=N),
    **_table("team_members", team_id=N, user_id=N),
    **_table(
        "students",
        id=N, contact_id=N, station_id=N, home_team_id=P, school=P, programme=P, field=P, level=P, start_on=P,
        expected_end_on=P, country=P, city=P, family_contact=S, emergency_contact=S, stage=P, stage_since=P,
        returned_on=P, company=P, employer=P, created_by_id=N, version=N, created_at=N, updated_at=N,
    ),
    **_table("student_events", id=N, student_id=N, actor_id=N, created_at=N, happened_on=N, from_stage=P,
             to_stage=P, text=P),
    **_table(
        "requests",
        id=N, student_id=N, station_id=N, kind=S, summary=S, status=N, department_id=N, due_on=N, outcome=S,
        closed_on=N, created_by_id=N, version=N, created_at=N, updated_at=N,
    ),
    **_table("request_events", id=N, request_id=N, actor_id=N, created_at=N, from_status=N, to_status=N,
             department_id=N, text=S),
    **_table("roll_calls", id=N, title=N, country=N, city=N, reason=N, opened_by_id=N, opened_at=N,
             everyone_reached_at=N, closed_at=N, closed_by_id=N),
    **_table("roll_call_entries", id=N, roll_call_id=N, student_id=N, station_id=N, mark=S, channel=P, note=S,
             marked_at=N, marked_by_id=N),
    **_table("programmes", id=N, kind=N, title=N, title_zh=N, year=N, starts_on=N, ends_on=N, places=N, host=N,
             location=N, description=N, event_id=N, created_by_id=N, created_at=N),
    **_table("programme_fields", programme_id=N, field=N, position=N),
    **_table("applications", id=N, programme_id=N, student_id=N, station_id=N, status=P, attended=P,
             created_by_id=N, created_at=N, decided_at=N),
}
