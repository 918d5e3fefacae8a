"""The REST API's view of the plugin: school partnerships, read-only (``liaison_api_resources``)."""
from __future__ import annotations

from marshmallow import Schema, fields

from liaison import hookimpl
from liaison.api.common import UtcDateTime
from liaison.api.resources import ApiResource

from .models import Partnership


class EuropePartnershipOut(Schema):
    """A partnership between a home institution and a European school (no personal data)."""

    id = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    home_name = fields.String(required=True)
    home_name_zh = fields.String(allow_none=True)
    home_kind = fields.String(required=True)
    home_city = fields.String(required=True)
    partner_name = fields.String(required=True)
    partner_country = fields.String(required=True)
    partner_city = fields.String(allow_none=True)
    partner_kind = fields.String(required=True)
    programme_kind = fields.String(required=True)
    stage = fields.String(required=True)
    stage_since = fields.Date(required=True)
    next_step_due = fields.Date(allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True)


@hookimpl
def liaison_api_resources():
    return [ApiResource(name="partnerships", model=Partnership, schema=EuropePartnershipOut,
                        description="Europe school partnerships (read).")]
