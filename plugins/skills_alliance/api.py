"""The REST API's view of the plugin: the alliance's members and framework agreements, read-only
(``liaison_api_resources``). Institutions' records; the free-text notes (which may name people)
are left out."""
from __future__ import annotations

from marshmallow import Schema, fields

from liaison import hookimpl
from liaison.api.common import UtcDateTime
from liaison.api.resources import ApiResource

from .models import Agreement, Member


class SkillsAllianceMemberOut(Schema):
    """A member institution of the alliance."""

    id = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(allow_none=True)
    country = fields.String(required=True)
    kind = fields.String(required=True)
    joined_on = fields.Date(required=True)
    certificate_no = fields.String(required=True)
    status = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class SkillsAllianceAgreementOut(Schema):
    """A framework agreement among two or more parties."""

    id = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    status_since = fields.Date(required=True)
    signed_on = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True)


@hookimpl
def liaison_api_resources():
    return [ApiResource(name="members", model=Member, schema=SkillsAllianceMemberOut,
                        description="Member institutions of the skills alliance (read)."),
            ApiResource(name="agreements", model=Agreement, schema=SkillsAllianceAgreementOut,
                        description="Framework agreements of the skills alliance (read).")]
