"""Routes for files attached to leads, on the ``leads`` blueprint: upload, download, remove.

The rules (who, which types, where files live) are in ``liaison.leads.files``. Leads are looked
up through ``liaison.scope`` (out of scope: 404) and a file only through its lead.
"""
from __future__ import annotations

import logging

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from ..models import LeadAttachment, TalentLead, db
from ..params import parse_id
from ..permissions import acts_for_station
from ..scope import get_or_404
from . import files
from .forms import AttachForm
from .views import DETAIL_OPTIONS, _render_detail, bp

log = logging.getLogger(__name__)

# Routes whose requests may carry files: their size limit is the attachments' own, set before
# anything (the CSRF check included) reads the body.
UPLOAD_ENDPOINTS = frozenset({"leads.upload", "leads.move"})


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        from flask import current_app

        request.max_content_length = current_app.config["ATTACHMENT_MAX_REQUEST_BYTES"]


def refuse_body() -> str:
    """After a request too large to read: treat its body as empty (so that the page shown with
    the message can build its other forms) and return the message."""
    request.form = ImmutableMultiDict()
    request.files = ImmutableMultiDict()
    return too_large_message()


def too_large_message() -> str:
    return _("What you sent is larger than %(limit)s MB in total: attach fewer or smaller files.",
             limit=files.max_megabytes("ATTACHMENT_MAX_REQUEST_BYTES"))


def _attachment_of(lead: TalentLead, attachment_id) -> LeadAttachment:
    ident = parse_id(attachment_id)
    attachment = None if ident is None else db.session.scalar(
        select(LeadAttachment).where(LeadAttachment.id == ident, LeadAttachment.lead_id == lead.id))
    if attachment is None:
        abort(404)
    return attachment


@bp.route("/<int:lead_id>/attachments", methods=["POST"])
@login_required
def upload(lead_id: int):
    lead = get_or_404(TalentLead, lead_id, *DETAIL_OPTIONS)
    if not acts_for_station(current_user, lead.station):
        abort(403)
    if not files.may_attach(lead, current_user):
        flash(_("Files can be attached only to drafts and to leads HQ has asked about."), "error")
        return redirect(url_for("leads.detail", lead_id=lead.id) + "#attachments")
    try:
        form = AttachForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        message = refuse_body()
        form = AttachForm(formdata=None)
        form.files.errors = [message]
        return _render_detail(lead, attach_form=form, status=413)
    if not valid:
        return _render_detail(lead, attach_form=form, status=400)
    files.attach(lead, form.files.uploads, current_user)
    flash(_("The files have been attached."), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#attachments")


@bp.route("/<int:lead_id>/attachments/<int:attachment_id>")
@login_required
def download(lead_id: int, attachment_id: int):
    lead = get_or_404(TalentLead, lead_id)
    attachment = _attachment_of(lead, attachment_id)
    path = files.path_of(attachment.storage_key)
    if path is None or not path.is_file():
        log.error("attachment %s of lead %s: file missing at %s", attachment.id, lead.id, path)
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0, etag=attachment.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:lead_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
@login_required
def remove(lead_id: int, attachment_id: int):
    lead = get_or_404(TalentLead, lead_id, *DETAIL_OPTIONS)
    attachment = _attachment_of(lead, attachment_id)
    if not files.may_remove(attachment, lead, current_user):
        abort(403)
    name = attachment.filename  # the CSRF token was checked by CSRFProtect before the view
    files.remove(attachment, lead, current_user)
    flash(_("“%(name)s” has been removed.", name=name), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#attachments")
