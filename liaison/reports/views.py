from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..i18n import local_today
from ..models import ReportPeriod, Role, db
from ..pagination import keyset_page
from ..scope import admin_region_ids
from ..params import parse_id
from ..permissions import roles_required
from . import downloads, periods, services, summary
from .figures import Selection
from .forms import ClosePeriodForm, ReopenPeriodForm, ReportFilterForm

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _selection() -> tuple[ReportFilterForm, Selection | None]:
    """The filter form from the query string and, when it is valid, what the report covers."""
    form = ReportFilterForm(request.args)
    form.fill_choices()
    if not form.validate():
        return form, None
    period = form.parsed or periods.default(local_today())
    if not form.period.data and not form.date_from.data:
        form.period.data = period.key
    stations = services.station_ids_in_scope(current_user, form.region_id, form.station_id)
    return form, Selection(period, stations, form.category.data or None)


def _regions(form: ReportFilterForm) -> tuple[int, ...] | None:
    """The regions whose whole report the filters ask for (a region chosen, or a regional admin's
    own regions with no filter), for which a closed period keeps its own snapshot; else ``None``."""
    if form.station_id is not None or form.category.data:
        return None
    if form.region_id is not None:
        return (form.region_id,)
    if current_user.is_regional_admin and not current_user.is_hq:
        return tuple(sorted(admin_region_ids(current_user))) or None
    return None


def _filters(form: ReportFilterForm) -> dict[str, str]:
    """The query string of the current filters, for the CSV, summary and XLSX links."""
    return {name: request.args[name] for name in ("period", "date_from", "date_to", "region", "station", "category")
            if request.args.get(name)} or {"period": form.period.data}


@bp.route("/")
@login_required
def index():
    form, selection = _selection()
    view = services.build(selection, regions=_regions(form)) if selection is not None else None
    return render_template("reports/index.html", form=form, view=view, filters=_filters(form),
                           whole_bureau=selection is not None and services.whole_bureau(selection),
                           can_export=selection is not None and downloads.may_download(current_user,
                                                                                      selection.station_ids),
                           close_form=ClosePeriodForm(formdata=None, period=selection.period.key if selection else None))


@bp.route("/table/<key>.csv")
@login_required
def table_csv(key: str):
    form, selection = _selection()
    if selection is None:
        return render_template("reports/index.html", form=form, view=None, filters={}, whole_bureau=False,
                               close_form=ClosePeriodForm(formdata=None))
    downloads.require(current_user, selection.station_ids)
    view = services.build(selection, with_sections="." in key, regions=_regions(form))
    table = view.table(key)
    if table is None:
        abort(404)
    content = services.csv_bytes(table)
    downloads.record(current_user, downloads.REPORT_TABLE, "csv", _recorded_filters(selection, table=key),
                     len(table.rows), selection.station_ids)
    filename = f"{key}-{selection.period.key}.csv".replace("..", "_")
    return Response(content, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _recorded_filters(selection: Selection, **extra: str) -> dict[str, str]:
    """The filters a download is recorded with: the page's, the period always."""
    from ..exports.services import clean_filters

    return {**clean_filters(request.args, downloads.REPORT_FILTERS), "period": selection.period.key, **extra}


def _summary_context(with_sections: bool = False):
    form, selection = _selection()
    if selection is None:
        return form, None, None, ""
    view = services.build(selection, with_sections=with_sections, regions=_regions(form))
    if services.whole_bureau(selection):
        scope = _("All stations")
    else:
        scope = _("The stations and category chosen in the filters")
    return form, selection, view, scope


@bp.route("/summary")
@login_required
def summary_page():
    form, selection, view, scope = _summary_context()
    texts = None
    if view is not None:
        figures = view.figures.get("summary", {})
        texts = {"zh": summary.chinese(selection.period, figures), "en": summary.english(selection.period, figures),
                 "rows": summary.summary_rows(figures)}
    return render_template("reports/summary.html", form=form, view=view, texts=texts, scope=scope,
                           filters=_filters(form),
                           can_export=view is not None and downloads.may_download(current_user,
                                                                                  selection.station_ids))


@bp.route("/summary.xlsx")
@login_required
def summary_xlsx():
    form, selection, view, scope = _summary_context(with_sections=True)
    if view is None:
        return render_template("reports/summary.html", form=form, view=None, texts=None, scope="", filters={})
    downloads.require(current_user, selection.station_ids)
    figures = view.figures.get("summary", {})
    tables = list(view.all_tables())
    content = summary.workbook(selection.period, figures, tables, scope)
    downloads.record(current_user, downloads.REPORT_SUMMARY, "xlsx", _recorded_filters(selection),
                     summary.row_count(figures, tables), selection.station_ids)
    return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="summary-{selection.period.key}.xlsx"'})


# Closed periods -------------------------------------------------------------------------------

def _periods_page(close_form: ClosePeriodForm | None = None, reopen_form: ReopenPeriodForm | None = None,
                  reopen_id: int | None = None, status: int = 200):
    stmt = (select(ReportPeriod).options(selectinload(ReportPeriod.closed_by), selectinload(ReportPeriod.reopened_by))
            .order_by(ReportPeriod.starts_on.desc(), ReportPeriod.id.desc()))
    page = keyset_page(stmt, per_page=50)
    return render_template("reports/periods.html", page=page, close_form=close_form or ClosePeriodForm(),
                           reopen_form=reopen_form or ReopenPeriodForm(), reopen_id=reopen_id), status


@bp.route("/periods")
@roles_required(Role.HQ_REVIEWER)
def closed_periods():
    return _periods_page()


@bp.route("/periods/close", methods=["POST"])
@roles_required(Role.HQ_REVIEWER)
def close():
    form = ClosePeriodForm()
    if form.validate():
        try:
            record = services.close_period(form.parsed, current_user, local_today())
        except services.Refused as refusal:
            form.period.errors.append(refusal.message)
        else:
            flash(_("The period %(period)s is closed: its figures are kept as they are now.", period=record.key),
                  "success")
            return redirect(url_for("reports.index", period=record.key))
    return _periods_page(close_form=form)


@bp.route("/periods/<period_id>/reopen", methods=["POST"])
@roles_required(Role.ADMIN)
def reopen(period_id):
    ident = parse_id(period_id)
    record = db.session.get(ReportPeriod, ident) if ident else None
    if record is None:
        abort(404)
    form = ReopenPeriodForm()
    if form.validate():
        try:
            services.reopen_period(record, current_user, form.reason.data)
        except services.Refused as refusal:
            form.reason.errors.append(refusal.message)
        else:
            flash(_("The period %(period)s is open again: its figures follow today's data.", period=record.key),
                  "success")
            return redirect(url_for("reports.closed_periods"))
    return _periods_page(reopen_form=form, reopen_id=record.id)
