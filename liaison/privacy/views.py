"""The masking layer's page: revealing a contact's masked fields, with a reason."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..i18n import format_datetime
from ..models import Contact, db
from ..scope import get_or_404
from ..security import is_safe_local_path
from . import masking
from .forms import RevealForm

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

bp.add_app_template_global(masking.personal, "personal")
bp.add_app_template_global(masking.person_name, "person_name")
bp.add_app_template_global(masking.masker, "privacy_masker")


def _back(contact: Contact, target: str | None) -> str:
    return target if is_safe_local_path(target) else url_for("contacts.detail", contact_id=contact.id)


@bp.route("/contacts/<int:contact_id>/reveal", methods=["POST"])
@login_required
def reveal(contact_id: int):
    """Reveal a contact's masked fields to the current user for a while; 404 out of scope."""
    contact = get_or_404(Contact, contact_id, selectinload(Contact.station))
    form = RevealForm()
    seen = masking.masker()
    if contact.erased_at is not None:
        flash(_("This person's data has been erased: there is nothing to reveal."), "info")
        return redirect(url_for("contacts.detail", contact_id=contact.id))
    if seen.by_rule(contact):
        flash(_("You already see this contact's personal fields."), "info")
        return redirect(_back(contact, form.next.data))
    if not form.validate_on_submit():
        return render_template("privacy/reveal.html", contact=contact, form=form)
    grant = masking.reveal(current_user, contact, form.reason.data, form.note.data)
    db.session.commit()
    flash(_("The personal fields are shown to you until %(time)s. The reveal and its reason have been logged.",
            time=format_datetime(grant.expires_at)), "success")
    return redirect(_back(contact, form.next.data))
