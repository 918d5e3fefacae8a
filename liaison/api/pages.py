"""HTML pages of the API: its documentation (Swagger UI, vendored) and the token pages — a user's
own tokens on their profile, every token for admins."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..i18n import display_name
from ..models import Station, db
from ..pagination import keyset_page
from ..permissions import roles_required
from ..scope import visible_stations_query
from . import tokens
from .forms import RevokeForm, TokenForm
from .models import ApiToken

bp = Blueprint("api_tokens", __name__)


@bp.route("/api/v1/docs")
def docs():
    """The API's documentation, rendered from ``/api/v1/openapi.json`` by Swagger UI (no CDN)."""
    return render_template("api/docs.html")


def _form() -> TokenForm:
    form = TokenForm()
    stations = db.session.scalars(visible_stations_query()).all()
    form.station.choices = [("", _("No restriction"))] + [(str(s.id), display_name(s)) for s in stations]
    return form


@bp.route("/profile/tokens", methods=["GET", "POST"])
@login_required
def index():
    form = _form()
    secret = None
    if form.validate_on_submit():
        station = db.session.get(Station, int(form.station.data)) if form.station.data else None
        token, secret = tokens.create_token(current_user, form.name.data, access=form.access.data,
                                            days=form.days.data, station=station)
        flash(_("The token “%(name)s” has been created. Copy it now: it will not be shown again.", name=token.name),
              "success")
        form = _form()
        form.name.data = ""
    return render_template("api/tokens.html", form=form, tokens=tokens.tokens_of(current_user), secret=secret,
                           revoke_form=RevokeForm(formdata=None)), 200


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == current_user.id))
    if token is None:
        abort(404)
    if RevokeForm().validate_on_submit() and tokens.revoke(token, current_user):
        flash(_("The token “%(name)s” has been revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))


@bp.route("/admin/api-tokens/")
@roles_required()  # admins only
def admin_index():
    stmt = (select(ApiToken).options(selectinload(ApiToken.user), selectinload(ApiToken.station))
            .order_by(ApiToken.id.desc()))
    page = keyset_page(stmt, per_page=50)
    return render_template("api/admin_tokens.html", page=page, revoke_form=RevokeForm(formdata=None))


@bp.route("/admin/api-tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required()
def admin_revoke(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if RevokeForm().validate_on_submit() and tokens.revoke(token, current_user):
        flash(_("The token “%(name)s” has been revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.admin_index"))


__all__ = ["bp"]
