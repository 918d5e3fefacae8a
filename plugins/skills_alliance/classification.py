"""Which columns of the plugin's tables are personal (``liaison_personal_fields``).

Members, agreements and recognitions are institutions' records: names, countries, kinds, dates
and certificate numbers are not personal. Free text (notes, renewal notes, the timeline's texts)
may name people and is classified as personal; the link to the core's contacts holds only ids.
"""
from __future__ import annotations

from liaison.models import Sensitivity

from .models import PREFIX

N, P = Sensitivity.NONE, Sensitivity.NORMAL


def _table(name: str, /, **columns: Sensitivity) -> dict[str, Sensitivity]:
    return {f"{PREFIX}{name}.{column}": value for column, value in columns.items()}


PERSONAL_FIELDS: dict[str, Sensitivity] = {
    **_table("members", id=N, station_id=N, name=N, name_zh=N, country=N, kind=N, joined_on=N, certificate_no=N,
             status=N, notes=P, created_by_id=N, created_at=N, updated_at=N),
    **_table("member_contacts", member_id=N, contact_id=N),
    **_table("renewals", id=N, member_id=N, renewed_on=N, valid_until=N, note=P, created_by_id=N, created_at=N),
    **_table("agreements", id=N, station_id=N, title=N, kind=N, status=N, status_since=N, signed_on=N,
             valid_until=N, notes=P, created_by_id=N, updated_by_id=N, version=N, created_at=N, updated_at=N),
    **_table("parties", id=N, agreement_id=N, member_id=N, home_institution=N),
    **_table("areas", agreement_id=N, area=N),
    **_table("documents", id=N, agreement_id=N, kind=N, title=N, signed_on=N, url=N, created_by_id=N, created_at=N),
    **_table("milestones", id=N, agreement_id=N, title=N, due_on=N, done_on=N, created_by_id=N, created_at=N),
    **_table("events", id=N, agreement_id=N, actor_id=N, created_at=N, happened_on=N, kind=N, from_status=N,
             to_status=N, text=P),
    **_table("recognitions", id=N, station_id=N, issuing_country=N, issuing_body=N, name_original=N, name_zh=N,
             level=N, domestic_kind=N, domestic_name=N, domestic_level=N, source_document=N, source_date=N,
             search_text=N, created_by_id=N, created_at=N, updated_at=N),
}
