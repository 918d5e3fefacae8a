from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..models import SavedView, db
from ..params import parse_id
from . import services
from .forms import DeleteViewForm, RenameViewForm, SaveViewForm

bp = Blueprint("saved_views", __name__, url_prefix="/saved-views")


@bp.app_template_global()
def saved_views_for(endpoint: str | None) -> list[tuple[SavedView, str, bool]]:
    """``(view, url, own)`` for a list page's "Saved views" panel (``saved_views/_panel.html``)."""
    if not endpoint or endpoint not in services.LISTS or not current_user.is_authenticated:
        return []
    user = current_user._get_current_object()
    return [(view, services.url_of(view), view.user_id == user.id) for view in services.visible_views(user, endpoint)]


@bp.app_template_global()
def save_view_url(endpoint: str | None, args) -> str | None:
    """The "Save this view" link for a list page with its current query string."""
    if not endpoint or endpoint not in services.LISTS:
        return None
    query = services.clean_query(endpoint, args.items(multi=True))
    return url_for("saved_views.create", list=endpoint, query=query or None)


def _list_or_404(endpoint: str | None) -> str:
    if endpoint not in services.LISTS:
        abort(404)
    if not services.may_use(current_user, endpoint):
        abort(403)
    return endpoint


@bp.route("/")
@login_required
def index():
    views = services.own_views(current_user)
    rename_forms = {view.id: RenameViewForm(formdata=None, name=view.name, prefix=f"v{view.id}") for view in views}
    return render_template("saved_views/index.html", views=views, rename_forms=rename_forms,
                           delete_form=DeleteViewForm(), url_of=services.url_of, list_title=services.list_title)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    form = SaveViewForm()
    endpoint = _list_or_404(form.list.data if request.method == "POST" else request.args.get("list"))
    form.share.choices = services.sharing_choices(current_user)
    if request.method == "GET":
        form.list.data = endpoint
        form.query.data = services.clean_query(endpoint, request.args.get("query", ""))
    if form.validate_on_submit():
        try:
            view = services.save(current_user, endpoint, form.name.data, form.query.data, form.share.data)
        except services.Rejected as exc:
            getattr(form, exc.field, form.name).errors.append(exc.message)
        else:
            flash(_("The view “%(name)s” has been saved.", name=view.name), "success")
            return redirect(services.url_of(view))
    form.query.data = services.clean_query(endpoint, form.query.data or "")
    return render_template("saved_views/form.html", form=form, list_title=services.list_title(endpoint),
                           back=url_for(endpoint) + (f"?{form.query.data}" if form.query.data else ""))


def _own_or_404(view_id: int) -> SavedView:
    view = db.session.get(SavedView, parse_id(view_id))
    if view is None or view.user_id != current_user.id:
        abort(404)
    return view


@bp.route("/<int:view_id>/rename", methods=["POST"])
@login_required
def rename(view_id: int):
    view = _own_or_404(view_id)
    form = RenameViewForm(prefix=f"v{view.id}")
    if form.validate_on_submit():
        try:
            services.rename(current_user, view, form.name.data)
        except services.Rejected as exc:
            form.name.errors.append(exc.message)
        else:
            flash(_("The view has been renamed."), "success")
            return redirect(url_for("saved_views.index"))
    db.session.rollback()
    views = services.own_views(current_user)
    rename_forms = {v.id: form if v.id == view.id else RenameViewForm(formdata=None, name=v.name, prefix=f"v{v.id}")
                    for v in views}
    return render_template("saved_views/index.html", views=views, rename_forms=rename_forms,
                           delete_form=DeleteViewForm(), url_of=services.url_of, list_title=services.list_title)


@bp.route("/<int:view_id>/delete", methods=["POST"])
@login_required
def delete(view_id: int):
    view = _own_or_404(view_id)
    form = DeleteViewForm()
    if not form.validate_on_submit():
        abort(400)
    services.delete(current_user, view)
    flash(_("The view has been deleted."), "success")
    return redirect(url_for("saved_views.index"))
