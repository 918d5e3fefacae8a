"""The API's demands from home (``liaison.demands``): the list, one demand, its matches.

Thin like ``views``: the list is the pages' query (``liaison.demands.views.filtered_demands``, scope
from ``liaison.scope.visible_demands_condition``), one demand ``liaison.scope.get_demand_or_404``,
its matches ``liaison.demands.services.matches_in_scope`` (those whose contact you may see: HQ
all), the contact's name as the pages show it (``liaison.privacy.masking``).
"""
from __future__ import annotations

from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import false, select

from ..demands import services
from ..demands.models import Demand, DemandKind, DemandStatus
from ..demands.views import filtered_demands
from ..models import Region, db
from ..params import parse_id
from ..privacy import masking
from ..scope import get_demand_or_404, manages_demand
from . import auth
from .common import ApiBlueprint as Blueprint
from .common import PageArgs, PageMeta, UtcDateTime, etag_of, page_of
from .views import READ_PROBLEMS, problem_responses, rate_limited

demands_bp = rate_limited(Blueprint("api_demands", __name__, url_prefix="/api/v1/demands",
                                    description="Demands from home and their matches (read)."))


def _values(enum) -> list:
    return [member.value for member in enum]


class DemandArgs(PageArgs):
    """The demand list's filters (``liaison.demands.views.filtered_demands``)."""

    status = fields.String(validate=validate.OneOf(_values(DemandStatus)))
    kind = fields.String(validate=validate.OneOf(_values(DemandKind)))
    field = fields.String(validate=validate.Length(max=100), metadata={
        "description": "One of the demand's fields (case and accents ignored), e.g. `battery`."})
    region = fields.String(validate=validate.Length(max=20), metadata={
        "description": "A target region: its code (as the other lists) or its id (as the page)."})
    q = fields.String(validate=validate.Length(max=200), metadata={
        "description": "Matches the title, organisation, city, requirements and fields."})


class DemandOut(Schema):
    """A demand as its page shows it."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    organisation = fields.String(required=True)
    source_kind = fields.String(required=True)
    kind = fields.String(required=True)
    city = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    requirements = fields.String(required=True)
    salary_range = fields.String(allow_none=True)
    funding = fields.String(allow_none=True)
    policy_support = fields.String(allow_none=True)
    deadline = fields.Date(allow_none=True)
    fields_ = fields.List(fields.String(), required=True, data_key="fields")
    region_ids = fields.List(fields.Integer(), required=True, metadata={"description": "The target regions."})
    status = fields.String(required=True)
    status_changed_at = UtcDateTime(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "Also the ETag."})
    manages = fields.Boolean(required=True, metadata={"description": "You may edit the demand and move it."})
    moves = fields.List(fields.String(), required=True, metadata={"description": "The status moves you may make now."})


class DemandPage(Schema):
    items = fields.List(fields.Nested(DemandOut), required=True)
    page = fields.Nested(PageMeta, required=True)


class MatchContactRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class DemandMatchOut(Schema):
    id = fields.Integer(required=True)
    demand_id = fields.Integer(required=True)
    contact = fields.Nested(MatchContactRef, required=True)
    station_id = fields.Integer(required=True)
    lead_id = fields.Integer(allow_none=True)
    event_id = fields.Integer(allow_none=True)
    stage = fields.String(required=True)
    stage_changed_at = UtcDateTime(required=True)
    note = fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True)
    moves = fields.List(fields.String(), required=True, metadata={"description": "The stage moves you may make now."})


class DemandMatchList(Schema):
    items = fields.List(fields.Nested(DemandMatchOut), required=True)


DEMAND_FIELDS = ("id", "title", "organisation", "source_kind", "kind", "city", "contact_name", "contact_phone",
                 "contact_email", "requirements", "salary_range", "funding", "policy_support", "deadline", "status",
                 "status_changed_at", "created_at", "updated_at", "version")


def demand_out(demand: Demand) -> dict:
    out = {name: getattr(demand, name) for name in DEMAND_FIELDS}
    out["fields_"] = demand.field_list
    out["region_ids"] = demand.region_ids
    out["manages"] = manages_demand(demand, current_user)
    if not out["manages"]:  # as on the demand's page: the contact person only for those who manage it
        out.update(contact_name=None, contact_phone=None, contact_email=None)
    out["moves"] = [move.name for move in services.DEMAND_WORKFLOW.available(demand, current_user)]
    return out


def match_out(match) -> dict:
    out = {name: getattr(match, name) for name in (
        "id", "demand_id", "station_id", "lead_id", "event_id", "stage", "stage_changed_at", "note", "created_at",
        "updated_at", "version")}
    out["contact"] = {"id": match.contact_id, "name": masking.person_name(match.contact)}
    out["moves"] = [move.name for move in services.MATCH_WORKFLOW.available(match, current_user)]
    return out


@demands_bp.route("/")
@demands_bp.arguments(DemandArgs, location="query")
@demands_bp.response(200, DemandPage)
@problem_responses(*READ_PROBLEMS)
def list_demands(args):
    """Demands you may see (HQ all; a regional admin those for their regions; a volunteer the
    open ones for their stations' regions), newest first."""
    region_id = None
    if args.get("region"):  # the page's filter takes the region's id
        region_id = db.session.scalar(select(Region.id).where(Region.code == args["region"])) \
            or parse_id(args["region"])
    stmt = filtered_demands(current_user, {"status": args.get("status"), "kind": args.get("kind"),
                                           "field": args.get("field"), "region": region_id, "q": args.get("q")})
    if args.get("region") and region_id is None:  # no such region: no demand for it
        stmt = stmt.where(false())
    items, page = page_of(stmt.options(*services.demand_options()), args)
    return {"items": [demand_out(demand) for demand in items], "page": page}


@demands_bp.route("/<int:demand_id>")
@demands_bp.response(200, DemandOut, headers={"ETag": {"schema": {"type": "string"}}})
@problem_responses(*READ_PROBLEMS)
def get_demand(demand_id):
    """One demand; its ``ETag`` is its version."""
    demand = get_demand_or_404(demand_id, *services.demand_options())
    return demand_out(demand), 200, {"ETag": etag_of(demand.version)}


@demands_bp.route("/<int:demand_id>/matches")
@demands_bp.response(200, DemandMatchList)
@problem_responses(*READ_PROBLEMS)
def demand_matches(demand_id):
    """The demand's matches whose contact is in your scope (HQ: all), oldest first; a token
    restricted to a station lists that station's only."""
    demand = get_demand_or_404(demand_id, *services.demand_options())
    restricted = auth.restriction()
    matches = [m for m in services.matches_in_scope(demand, current_user)
               if restricted is None or m.station_id == restricted]
    return {"items": [match_out(m) for m in matches]}


__all__ = ["demands_bp"]
