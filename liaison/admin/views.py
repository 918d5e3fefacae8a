from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..models import AuditEntry, Region, Role, Station, StationStatus, User, db
from ..params import paginate
from ..permissions import roles_required
from ..scope import visible_regions_query, visible_stations_query, visible_users_query
from . import services
from ..forms import prefill
from ..i18n import display_name, region_label
from ..search import contains
from .forms import RegionForm, UserFilterForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

MANAGERS = (Role.REGIONAL_ADMIN,)  # admins always pass roles_required


def _manageable_stations() -> list[Station]:
    return list(db.session.scalars(
        visible_stations_query().where(Station.status != StationStatus.CLOSED).options(selectinload(Station.region))
    ))


def _user_form(user: User | None = None) -> tuple[UserForm, dict[int, Region], dict[int, Station]]:
    form = UserForm(obj=prefill(user))
    if request.method == "GET" and user is not None:
        form.regions.data = [r.id for r in user.regions]
        form.stations.data = [s.id for s in user.stations]
    regions = {r.id: r for r in db.session.scalars(visible_regions_query())} if current_user.is_admin else {}
    stations = {s.id: s for s in _manageable_stations()}
    form.regions.choices = [(r.id, region_label(r)) for r in regions.values()]
    form.stations.choices = [(s.id, f"{display_name(s)} ({s.region.code})") for s in stations.values()]
    if not current_user.is_admin:
        form.role.choices = [(Role.VOLUNTEER.value, Role.VOLUNTEER.label)]
    return form, regions, stations


def _validate_user_form(form: UserForm, user: User | None) -> bool:
    ok = form.validate_on_submit()
    if ok and services.email_taken(form.email.data, user.id if user else None):
        form.email.errors.append(_("Another account already uses this e-mail address."))
        ok = False
    if ok and form.role.data == Role.REGIONAL_ADMIN and not form.regions.data:
        form.regions.errors.append(_("Choose at least one region for a regional admin."))
        ok = False
    return ok


@bp.route("/users")
@roles_required(*MANAGERS)
def users():
    form = UserFilterForm(request.args)
    stmt = visible_users_query().options(selectinload(User.stations), selectinload(User.regions))
    if form.q.data:
        stmt = stmt.where(contains(form.q.data, User.name, User.email))
    if form.role.data:
        stmt = stmt.where(User.role == form.role.data)
    page = paginate(stmt, per_page=50)
    visible_ids = select(visible_users_query().subquery().c.id)
    requests = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.password_reset_requested",
                                 AuditEntry.object_id.in_(visible_ids))
        .order_by(AuditEntry.id.desc()).limit(10)
    ).all()
    requested = {entry.object_id: entry.created_at for entry in requests}
    return render_template("admin/users.html", form=form, page=page, requested=requested)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def create_user():
    form, regions, stations = _user_form()
    if _validate_user_form(form, None):
        user, password = services.create_user(
            form.data, [regions[i] for i in form.regions.data or [] if i in regions],
            [stations[i] for i in form.stations.data or [] if i in stations], current_user)
        return _show_temporary_password(user, password, created=True)
    return render_template("admin/user_form.html", form=form, user=None)


def _show_temporary_password(user: User, password: str, created: bool):
    """The temporary password is shown once, on this response itself: never flashed, so it never
    travels in the session cookie (signed, not encrypted). The page is not cached (no-store)."""
    return render_template("admin/temporary_password.html", account=user, password=password, created=created)


def _managed_user_or_404(user_id: int) -> User:
    user = db.session.scalar(visible_users_query().where(User.id == user_id)
                             .options(selectinload(User.stations), selectinload(User.regions)))
    if user is None or user.id == current_user.id:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_user(user_id: int):
    user = _managed_user_or_404(user_id)
    form, regions, stations = _user_form(user)
    if _validate_user_form(form, user):
        chosen = [stations[i] for i in form.stations.data or [] if i in stations]
        # Memberships the actor does not manage are kept as they are.
        kept = [s for s in user.stations if s.id not in stations]
        chosen_regions = [regions[i] for i in form.regions.data or [] if i in regions] if current_user.is_admin else user.regions
        services.update_user(user, form.data, chosen_regions, chosen + kept, current_user)
        flash(_("The account has been saved."), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(*MANAGERS)
def set_active(user_id: int):
    user = _managed_user_or_404(user_id)
    active = request.form.get("active") == "1"
    services.set_active(user, active, current_user)
    flash(_("%(name)s can log in again.", name=user.name) if active else
          _("%(name)s has been deactivated and logged out.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles_required(*MANAGERS)
def reset_password(user_id: int):
    user = _managed_user_or_404(user_id)
    password = services.reset_password(user, current_user)
    return _show_temporary_password(user, password, created=False)


@bp.route("/regions")
@roles_required(Role.ADMIN)
def regions():
    items = db.session.scalars(select(Region).order_by(Region.code)).all()
    counts = dict(db.session.execute(
        select(Station.region_id, db.func.count()).group_by(Station.region_id)).all())
    return render_template("admin/regions.html", regions=items, counts=counts)


@bp.route("/regions/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_region():
    form = RegionForm()
    if form.validate_on_submit():
        if services.code_taken(form.code.data):
            form.code.errors.append(_("A region with this code already exists."))
        else:
            services.create_region(form.data, current_user)
            flash(_("The region has been created."), "success")
            return redirect(url_for("admin.regions"))
    return render_template("admin/region_form.html", form=form, region=None)


@bp.route("/regions/<int:region_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_region(region_id: int):
    region = db.get_or_404(Region, region_id)
    form = RegionForm(obj=prefill(region))
    if form.validate_on_submit():
        if services.code_taken(form.code.data, region.id):
            form.code.errors.append(_("A region with this code already exists."))
        else:
            services.update_region(region, form.data, current_user)
            flash(_("The region has been saved."), "success")
            return redirect(url_for("admin.regions"))
    return render_template("admin/region_form.html", form=form, region=region)
