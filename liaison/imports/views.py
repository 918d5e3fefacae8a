"""Routes of the spreadsheet import: upload → mapping → review and commit → report / revert.

Who: volunteers for their stations, region admins, admins (``acts_for_station``); HQ reviewers
no (403). Imports are looked up through ``liaison.scope`` (another station's: 404).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from ..models import ImportBatch, Role, Station, db
from ..models.imports import ImportMode, ImportStatus
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import acts_for_station
from ..scope import get_or_404
from . import jobs as import_jobs
from . import services
from .forms import ActionForm, CommitForm, UploadForm, mapping_form
from .parsing import FileRefused, notice_text

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    if endpoint == "imports.upload" and request.method == "POST":
        # The file's own limit plus room for the form around it, before anything reads the body.
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + 64 * 1024


def _no_hq() -> None:
    if current_user.role == Role.HQ_REVIEWER:
        abort(403)


def _batch(import_id: int) -> ImportBatch:
    batch = get_or_404(ImportBatch, import_id, selectinload(ImportBatch.station), selectinload(ImportBatch.created_by),
                       selectinload(ImportBatch.reverted_by))
    if not acts_for_station(current_user, batch.station):
        abort(403)
    return batch


@bp.route("/")
@login_required
def index():
    _no_hq()
    stations = services.importable_stations(current_user)
    station_id = parse_id(request.args.get("station_id"))
    stmt = (services.visible_imports(current_user, station_id)
            .options(selectinload(ImportBatch.station), selectinload(ImportBatch.created_by))
            .order_by(ImportBatch.id.desc()))
    page = keyset_page(stmt, per_page=25)
    return render_template("imports/index.html", page=page, stations=stations, station_id=station_id,
                           revertable={b.id for b in page.items if b.status == ImportStatus.COMMITTED
                                       and acts_for_station(current_user, b.station)},
                           form=ActionForm())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def upload():
    _no_hq()
    stations = services.importable_stations(current_user)
    chosen = parse_id(request.args.get("station_id"))
    station = next((s for s in stations if s.id == chosen), None)
    if chosen is not None and station is None:
        get_or_404(Station, chosen)  # out of scope: 404; in scope but not one the user acts for: 403
        abort(403)
    if station is None:
        if not stations:
            abort(403)
        if len(stations) > 1:
            return render_template("imports/choose_station.html", stations=stations)
        station = stations[0]
    limits = services.limits()
    try:
        form = UploadForm()
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        form = UploadForm(formdata=None)
        form.file.errors = [_("The file is larger than %(limit)s MB.", limit=services._megabytes(limits["max_bytes"]))]
        return render_template("imports/upload.html", form=form, station=station, limits=limits), 413
    if submitted:
        upload_ = form.file.data
        if upload_ is None or not getattr(upload_, "filename", ""):
            form.file.errors = [_("Choose a file to import.")]
        else:
            data = upload_.read(limits["max_bytes"] + 1)
            try:
                batch = services.stage(station, upload_.filename, data, current_user,
                                       record_type=form.record_type.data)
            except FileRefused as exc:
                form.file.errors = [str(exc.message)]
            else:
                return redirect(url_for("imports.mapping", import_id=batch.id))
        return render_template("imports/upload.html", form=form, station=station, limits=limits), 400
    elif request.method == "POST":
        return render_template("imports/upload.html", form=form, station=station, limits=limits), 400
    return render_template("imports/upload.html", form=form, station=station, limits=limits)


def _not_staged(batch: ImportBatch):
    flash(_("This import has already been done or discarded."), "warning")
    return redirect(url_for("imports.detail", import_id=batch.id))


@bp.route("/<int:import_id>/mapping", methods=["GET", "POST"])
@login_required
def mapping(import_id: int):
    batch = _batch(import_id)
    if batch.status != ImportStatus.STAGED:
        return _not_staged(batch)
    targets = services.targets(batch.record_type)
    form = mapping_form(batch.header, targets, formdata=request.form if request.method == "POST" else None,
                        data=batch.mapping)
    problems = []
    if request.method == "POST":
        if form.validate():
            chosen = {str(i): form[f"col_{i}"].data or "" for i in range(len(batch.header))}
            problems = services.set_mapping(batch, chosen)
            if not problems:
                return redirect(url_for("imports.review", import_id=batch.id))
    status = 400 if request.method == "POST" else 200
    return render_template("imports/mapping.html", batch=batch, form=form, problems=problems,
                           preview=services.preview(batch), notices=_file_notices(batch)), status


def _file_notices(batch: ImportBatch) -> list[str]:
    return [notice_text(n) for n in batch.notices or [] if n.get("row") is None and n.get("code") != "commit_refused"]


@bp.route("/<int:import_id>/review", methods=["GET", "POST"])
@login_required
def review(import_id: int):
    batch = _batch(import_id)
    if batch.status != ImportStatus.STAGED:
        return _not_staged(batch)
    form = CommitForm()
    problems = []
    running = import_jobs.latest(batch.id)
    if running is not None and running.status in ("queued", "running", "retrying"):
        return redirect(url_for("imports.detail", import_id=batch.id))
    if form.validate_on_submit() and batch.total_rows > current_app.config["IMPORT_JOB_THRESHOLD"]:
        # A large file: checked here as the commit would, then committed by a background job.
        analysis = services.analyse(batch)
        if analysis.error_rows and not form.leave_out_errors.data:
            problems = [_("%(count)s rows have problems: correct the file, or choose to leave those rows out.",
                          count=analysis.error_rows)]
        else:
            import_jobs.start(batch, form.mode.data, current_user, form.leave_out_errors.data)
            db.session.commit()  # the job runs now (inline) or in the worker (Redis)
            flash(_("The import runs in the background; this page shows how it goes."), "info")
            return redirect(url_for("imports.detail", import_id=import_id))
    elif form.validate_on_submit():
        try:
            counts = services.commit(batch, form.mode.data, current_user, leave_out_errors=form.leave_out_errors.data)
        except services.ImportRefused as exc:
            problems = [str(exc.message), *exc.problems]
            batch = _batch(import_id)
        else:
            if batch.record_type == services.LEADS:
                flash(_("Imported: %(leads)s draft leads; contacts: %(created)s created, %(updated)s updated, "
                        "%(linked)s used as they were, %(skipped)s rows left out.", **counts), "success")
            else:
                flash(_("Imported: %(created)s created, %(updated)s updated, %(skipped)s left out.", **counts),
                      "success")
            return redirect(url_for("imports.detail", import_id=batch.id))
    analysis = services.analyse(batch)
    cell_notices = [(n.get("row"), batch.header[n["column"]] if n.get("column") is not None
                     and n["column"] < len(batch.header) else "", notice_text(n))
                    for n in batch.notices if n.get("row") is not None]
    plans = {mode.value: analysis.planned(mode.value) for mode in ImportMode}
    status = 400 if request.method == "POST" else 200
    if batch.record_type == services.LEADS:
        for option in form.mode:
            option.label.text = services.LEAD_MODE_LABELS[option.data]
    return render_template("imports/review.html", batch=batch, form=form, analysis=analysis, plans=plans,
                           problems=problems, cell_notices=cell_notices, discard_form=ActionForm(),
                           background=batch.total_rows > current_app.config["IMPORT_JOB_THRESHOLD"],
                           refusal=import_jobs.refusal(batch)), status


@bp.route("/<int:import_id>")
@login_required
def detail(import_id: int):
    batch = _batch(import_id)
    problems = services.revert_problems(batch) if batch.status == ImportStatus.COMMITTED else []
    job = import_jobs.latest(batch.id)
    return render_template("imports/detail.html", batch=batch, problems=problems, form=ActionForm(), job=job,
                           refusal=import_jobs.refusal(batch), leads=services.lead_count(batch),
                           mode_label=services.mode_label(batch.record_type, batch.mode),
                           type_label=services.types().get(batch.record_type, batch.record_type))


@bp.route("/<int:import_id>/revert", methods=["POST"])
@login_required
def revert(import_id: int):
    batch = _batch(import_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        counts = services.revert(batch, current_user)
    except services.ImportRefused as exc:
        flash(" ".join([str(exc.message), *exc.problems]), "error")
    else:
        if counts.get("leads"):
            flash(_("The import has been reverted: %(leads)s leads and %(removed)s contacts removed, %(restored)s "
                    "contacts restored.", **counts), "success")
        else:
            flash(_("The import has been reverted: %(removed)s contacts removed, %(restored)s restored.", **counts),
                  "success")
    return redirect(url_for("imports.detail", import_id=import_id))


@bp.route("/<int:import_id>/discard", methods=["POST"])
@login_required
def discard(import_id: int):
    batch = _batch(import_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if batch.status == ImportStatus.STAGED:
        services.discard(batch)
        flash(_("The file has been discarded; nothing was imported."), "success")
    return redirect(url_for("imports.index", station_id=batch.station_id))

