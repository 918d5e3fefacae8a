from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..i18n import display_name, local_today
from ..models import Role
from ..permissions import roles_required
from . import services
from ..reports import downloads
from ..reports import services as report_services
from ..reports.periods import MAX_YEAR, MIN_YEAR
from .forms import WeightsForm, YearForm, field_name, for_figures

bp = Blueprint("scorecard", __name__, url_prefix="/reports/scorecard")


def _year() -> tuple[YearForm, int | None]:
    form = YearForm(request.args)
    if not form.validate():
        return form, None
    if form.year.data is None:
        form.year.data = local_today().year
    return form, form.year.data


def _page(form: YearForm | None, year: int | None, weights_form: WeightsForm | None = None, status: int = 200):
    cards, extra, weights = [], [], {}
    if year is not None:
        cards, extra = services.scorecard(year, services.station_ids_for(current_user))
        weights = services.weights_for(year, extra)
    if weights_form is None and current_user.is_hq and year is not None:
        weights_form = for_figures(extra)(formdata=None, year=year,
                                          **{f"w_{key}": weights[key] for key in services.KEYS},
                                          **{field_name(f.key): weights[f.key] for f in extra})
    return render_template("scorecard/index.html", form=form, year=year, cards=cards, extra=extra,
                           weights=weights, weights_form=weights_form, figures=services.FIGURES,
                           ranked_view=current_user.is_hq,
                           can_export=downloads.may_download(current_user, services.station_ids_for(current_user)),
                           # translated once, filled per cell (``|format``): not a gettext per cell
                           points_pattern=_("%(points)s pts")), status


@bp.route("/")
@login_required
def index():
    form, year = _year()
    return _page(form, year)


def _download(fmt: str) -> Response:
    """The scorecard's ranked table as XLSX (with the weights) or CSV: the export right over the
    stations whose cards the user sees, and an export record."""
    form, year = _year()
    if year is None:
        return _page(form, year)
    stations = services.station_ids_for(current_user)
    downloads.require(current_user, stations)
    cards, extra = services.scorecard(year, stations)
    if fmt == "xlsx":
        content = services.workbook(year, cards, extra, services.weights_for(year, extra), display_name)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        table = services.ranked_table(year, cards, extra, display_name)
        table.rows = [["" if cell is None else cell for cell in row] for row in table.rows]
        content, mimetype = report_services.csv_bytes(table), "text/csv; charset=utf-8"
    downloads.record(current_user, downloads.SCORECARD, fmt, {"year": str(year)}, len(cards), stations)
    return Response(content, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="scorecard-{year}.{fmt}"'})


@bp.route("/scorecard.xlsx")
@login_required
def xlsx():
    return _download("xlsx")


@bp.route("/scorecard.csv")
@login_required
def csv():
    return _download("csv")


@bp.route("/weights", methods=["POST"])
@roles_required(Role.HQ_REVIEWER)
def weights():
    posted_year = request.form.get("year", "").strip()
    extra = services.plugin_figures(int(posted_year), services.all_station_ids()) \
        if posted_year.isdigit() and MIN_YEAR <= int(posted_year) <= MAX_YEAR else []
    form = for_figures(extra)()
    if form.validate():
        services.set_weights(form.year.data, form.weights(), current_user, extra)
        flash(_("The weights of %(year)d are saved.", year=form.year.data), "success")
        return redirect(url_for("scorecard.index", year=form.year.data))
    # The weights form with its errors; the year picker (a field named "year" too) stays out of it.
    year = form.year.data if form.year.data is not None and not form.year.errors else local_today().year
    return _page(None, year, weights_form=form)

