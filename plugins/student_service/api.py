"""The REST API's view of the plugin: students abroad, read-only (``liaison_api_resources``).

A student's family and emergency contacts (sensitive) are left out; the person is referred to by
``contact_id`` (``/api/v1/contacts/<id>`` shows the contact masked for the caller)."""
from __future__ import annotations

from marshmallow import Schema, fields

from liaison import hookimpl
from liaison.api.common import UtcDateTime
from liaison.api.resources import ApiResource

from .models import Student


class StudentServiceStudentOut(Schema):
    """A student abroad, by stage (prospective → abroad → returned → founded a company / employed at home)."""

    id = fields.Integer(required=True)
    contact_id = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    stage = fields.String(required=True)
    stage_since = fields.Date(required=True)
    school = fields.String(required=True)
    programme = fields.String(allow_none=True)
    field = fields.String(required=True)
    level = fields.String(required=True)
    country = fields.String(required=True)
    city = fields.String(required=True)
    start_on = fields.Date(allow_none=True)
    expected_end_on = fields.Date(allow_none=True)
    returned_on = fields.Date(allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True)


@hookimpl
def liaison_api_resources():
    return [ApiResource(name="students", model=Student, schema=StudentServiceStudentOut,
                        description="Students abroad (read).")]
