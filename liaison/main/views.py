from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user, login_required
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload, selectinload

from ..leads.queries import status_counts
from .. import pagination
from ..models import AuditEntry, LeadEvent, LeadStatus, Station, TalentLead, db
from ..i18n import local_today, match_locale
from ..scorecard import dashboards
from ..reports import downloads
from ..reports.services import csv_bytes
from ..scope import admin_region_ids, member_station_ids, scoped, visible_stations_query
from ..security import safe_next
from ..stations.services import counts_by_station

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    context = {"statuses": list(LeadStatus)}
    if current_user.is_volunteer or current_user.is_regional_admin:
        stations = db.session.scalars(visible_stations_query().options(selectinload(Station.region))).all()
        context["stations"] = stations
        context["station_counts"] = counts_by_station([s.id for s in stations])
    context["chart_stations"] = _chart_stations(context.get("stations"))
    context["can_export"] = downloads.may_download(current_user, context["chart_stations"])
    if current_user.is_volunteer:
        context["drafts"] = _leads(TalentLead.status == LeadStatus.DRAFT, TalentLead.submitter_id == current_user.id)
        context["waiting"] = _leads(TalentLead.status == LeadStatus.NEEDS_INFO)
        context["my_status"] = dashboards.my_leads_by_status(current_user)
        context["my_contacts_month"] = dashboards.contacts_added_this_month(current_user, local_today())
    if current_user.is_regional_admin:
        context["activity"] = _recent_events()
        context["side_by_side"] = dashboards.stations_side_by_side(context["stations"], context["station_counts"])
        context["quiet"] = dashboards.quiet_stations(current_user)
        context["admin_log"] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.region_id.in_(admin_region_ids()))
            .options(selectinload(AuditEntry.actor)).order_by(AuditEntry.id.desc()).limit(10)
        ).all()
    if current_user.is_hq:  # only HQ's page shows the counts; capped, through the indexes
        context["counts"] = status_counts(current_user, cap=pagination.COUNT_CAP,
                                          statuses=[s for s in LeadStatus if s != LeadStatus.DRAFT])
        context["mine"] = _leads(TalentLead.reviewer_id == current_user.id,
                                 TalentLead.status.in_([LeadStatus.SUBMITTED, LeadStatus.UNDER_REVIEW,
                                                        LeadStatus.ACCEPTED, LeadStatus.REFERRED]))
        context["unassigned"] = _leads(TalentLead.reviewer_id.is_(None), TalentLead.status == LeadStatus.SUBMITTED)
        today = local_today()
        context["year"] = today.year
        context["queue_age"] = dashboards.queue_by_age()
        context["funnel_years"] = dashboards.funnel_years(today.year)
        context["landings_months"] = dashboards.landings_by_month(today)
    return render_template("main/home.html", **context)


# The home page's charts as CSV: each the rows of the table printed beside the chart, built by
# the same function, for the roles whose page shows it.

def _chart_stations(stations=None) -> tuple[int, ...] | None:
    """The stations the user's home charts count (``None``: every station, HQ)."""
    if current_user.is_hq:
        return None
    if current_user.is_regional_admin:
        if stations is None:
            stations = db.session.scalars(visible_stations_query()).all()
        return tuple(sorted(s.id for s in stations))
    return tuple(sorted(member_station_ids(current_user)))


def _chart(key: str):
    """The home chart ``key`` of the current user's page (``None``: not on their page)."""
    if current_user.is_volunteer and key == "home_status":
        return dashboards.my_leads_by_status(current_user)
    if current_user.is_regional_admin and key == "home_stations":
        stations = db.session.scalars(visible_stations_query()).all()
        return dashboards.stations_side_by_side(stations, counts_by_station([s.id for s in stations]))
    if current_user.is_hq:
        today = local_today()
        builders = {"home_queue_age": dashboards.queue_by_age,
                    "home_funnel": lambda: dashboards.funnel_years(today.year),
                    "home_landings": lambda: dashboards.landings_by_month(today)}
        if key in builders:
            return builders[key]()
    return None


@bp.route("/charts/<key>.csv")
@login_required
def chart_csv(key: str):
    stations = _chart_stations()
    downloads.require(current_user, stations)
    table = _chart(key)
    if table is None:
        abort(404)
    content = csv_bytes(table)
    downloads.record(current_user, downloads.HOME_CHART, "csv", {"chart": key}, len(table.rows), stations)
    filename = f'{key.replace("_", "-")}-{local_today()}.csv'
    return Response(content, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# The home page's short lists: their contact, station and reviewer ride on the leads' own
# statement (one query per list, not four).
HOME_LIST_OPTIONS = (joinedload(TalentLead.contact), joinedload(TalentLead.station), joinedload(TalentLead.reviewer))


def _leads(*conditions, limit: int = 10) -> list[TalentLead]:
    stmt = scoped(select(TalentLead), TalentLead).where(*conditions).options(*HOME_LIST_OPTIONS)
    return list(db.session.scalars(stmt.order_by(TalentLead.updated_at.desc()).limit(limit)))


def _recent_events(limit: int = 15) -> list[LeadEvent]:
    lead_ids = scoped(select(TalentLead.id), TalentLead)
    stmt = (select(LeadEvent).where(LeadEvent.lead_id.in_(lead_ids))
            .options(selectinload(LeadEvent.actor), selectinload(LeadEvent.lead).selectinload(TalentLead.contact))
            .order_by(LeadEvent.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


@bp.route("/language", methods=["POST"])
def set_language():
    locale = match_locale(request.form.get("locale"))
    if locale and locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), "main.home"))


@bp.route("/healthz")
def health():
    """For load balancers and monitoring: the app answers and the database too."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
