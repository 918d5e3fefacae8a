from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from . import services

bp = Blueprint("find", __name__)


@bp.route("/search")
@login_required
def search():
    q = request.args.get("q", "")
    too_long = len(q.strip()) > services.MAX_Q
    results = services.search(q, current_user)
    return render_template("find/results.html", results=results, q=results.q, too_long=too_long)
