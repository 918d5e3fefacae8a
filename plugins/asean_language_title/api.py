"""The REST API's view of the plugin: title applications, read-only (``liaison_api_resources``)."""
from __future__ import annotations

from marshmallow import Schema, fields

from liaison import hookimpl
from liaison.api.common import UtcDateTime
from liaison.api.resources import ApiResource

from .models import TitleApplication


class AseanTitleApplicationOut(Schema):
    """A translator-title application; the person is the contact ``contact_id`` (masked there)."""

    id = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    contact_id = fields.Integer(required=True)
    language = fields.String(required=True)
    level = fields.String(required=True)
    practice_years = fields.Integer(required=True)
    current_title = fields.String(allow_none=True)
    status = fields.String(required=True)
    route = fields.String(required=True)
    decision_date = fields.Date(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    status_changed_at = UtcDateTime(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True)


@hookimpl
def liaison_api_resources():
    return [ApiResource(name="applications", model=TitleApplication, schema=AseanTitleApplicationOut,
                        description="ASEAN translator-title applications (read).")]
