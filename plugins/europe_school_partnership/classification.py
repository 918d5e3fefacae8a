"""Which columns of the plugin's tables are personal (``liaison_personal_fields``).

A partnership is between two schools, not people: names, cities and kinds are not personal.
The free text (notes, next steps, the timeline's comments, documents' notes) may name people
and is classified as personal; the link to the core's contacts holds only ids.
"""
from __future__ import annotations

from liaison.models import Sensitivity

from .models import PREFIX

N, P = Sensitivity.NONE, Sensitivity.NORMAL


def _table(name: str, /, **columns: Sensitivity) -> dict[str, Sensitivity]:
    return {f"{PREFIX}{name}.{column}": value for column, value in columns.items()}


PERSONAL_FIELDS: dict[str, Sensitivity] = {
    **_table(
        "partnerships",
        id=N, station_id=N, home_name=N, home_name_zh=N, home_kind=N, home_city=N, partner_name=N,
        partner_name_original=N, partner_country=N, partner_city=N, partner_kind=N, programme_kind=N, majors=N,
        notes=P, stage=N, stage_since=N, next_step=P, next_step_due=N, created_by_id=N, updated_by_id=N, version=N,
        created_at=N, updated_at=N,
    ),
    **_table("contacts", partnership_id=N, contact_id=N),
    **_table(
        "events",
        id=N, partnership_id=N, actor_id=N, created_at=N, happened_on=N, kind=N, from_stage=N, to_stage=N, text=P,
        due_on=N,
    ),
    **_table("documents", id=N, partnership_id=N, kind=N, title=N, signed_on=N, note=P, created_by_id=N, created_at=N),
}
