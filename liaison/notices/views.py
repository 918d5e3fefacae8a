"""Policy notices: HQ publishes, volunteers read and acknowledge, HQ follows the receipts; a public
page per notice."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..models import PolicyNotice, Region, Role, db
from ..notifications import mail
from ..pagination import keyset_page
from ..permissions import roles_required
from ..scope import visible_stations_query
from . import services
from .forms import NoticeForm

bp = Blueprint("notices", __name__, url_prefix="/notices")


@bp.app_context_processor
def _home_widget():
    def unread_notices():
        if not current_user.is_authenticated:
            return []
        return services.unread_for(current_user)

    return {"unread_notices": unread_notices}


@bp.route("/")
@login_required
def index():
    stmt = services.visible_notices(current_user).order_by(PolicyNotice.id.desc())
    page = keyset_page(stmt, per_page=30)
    return render_template("notices/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.HQ_REVIEWER)
def create():
    regions = db.session.scalars(select(Region).order_by(Region.code)).all()
    stations = db.session.scalars(visible_stations_query()).all()
    form = NoticeForm(regions=regions, stations=stations)
    if form.validate_on_submit():
        notice = services.publish(
            current_user, title=form.title.data, title_zh=form.title_zh.data, body=form.body.data,
            body_zh=form.body_zh.data, link=form.link.data, effective_from=form.effective_from.data,
            effective_until=form.effective_until.data, to_all=form.to_all.data,
            region_ids=form.regions.data or [], station_ids=form.stations.data or [],
            host_kinds=form.host_kinds.data or [], attachments=form.parsed_attachments)
        flash(_("The notice has been published to the stations it is for."), "success")
        return redirect(url_for("notices.detail", notice_id=notice.id))
    return render_template("notices/form.html", form=form)


@bp.route("/<int:notice_id>")
@login_required
def detail(notice_id):
    notice = services.get_visible_or_404(notice_id, current_user)
    receipt = services.mark_read(notice, current_user)
    public_url = mail.absolute(url_for("notices.public", slug=notice.slug))
    return render_template("notices/detail.html", notice=notice, receipt=receipt,
                           for_me=receipt is not None, targets=services.target_labels(notice),
                           public_url=public_url)


@bp.route("/<int:notice_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(notice_id):
    notice = services.get_visible_or_404(notice_id, current_user)
    if not services.is_for_volunteer(notice, current_user):
        abort(403)
    services.acknowledge(notice, current_user)
    flash(_("Thank you: HQ can see that you have read the notice."), "success")
    return redirect(url_for("notices.detail", notice_id=notice.id))


@bp.route("/<int:notice_id>/receipts")
@roles_required(Role.HQ_REVIEWER)
def receipts(notice_id):
    notice = services.get_visible_or_404(notice_id, current_user)
    return render_template("notices/receipts.html", notice=notice, stations=services.receipts_by_station(notice),
                           targets=services.target_labels(notice))


@bp.route("/p/<slug>")
def public(slug):
    if not slug or len(slug) > 40:
        abort(404)
    notice = db.session.scalar(select(PolicyNotice).where(PolicyNotice.slug == slug)
                               .options(selectinload(PolicyNotice.attachments)))
    if notice is None:
        abort(404)
    url = mail.absolute(url_for("notices.public", slug=notice.slug))
    return render_template("notices/public.html", notice=notice, qr=services.qr_svg(url), public_url=url)
