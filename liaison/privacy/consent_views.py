"""Lawful basis and consent: record a basis for a contact, withdraw one, the list of bases to
renew. The rules are in ``liaison.privacy.consent``; the contact page shows the bases through
``privacy/consent_panel.html`` (the ``consent_panel`` template global below).

Who: whoever acts for the contact's station (its volunteers, the region's admins, admins) records
and withdraws; everyone who sees the contact sees its bases (HQ read-only); out of scope is 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..models import ConsentSource, Contact, ContactConsent, LawfulBasis, LeadStatus, Purpose, Station, TalentLead, db
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import acts_for_station
from ..scope import get_or_404, scoped
from . import consent
from .consent_forms import RecordBasisForm, WithdrawBasisForm

bp = Blueprint("consent", __name__, url_prefix="/privacy/consents")


def _contact_url(contact_id: int) -> str:
    return url_for("contacts.detail", contact_id=contact_id, _anchor="consent")


def _contact_for_recording(contact_id) -> Contact:
    contact = get_or_404(Contact, contact_id, selectinload(Contact.station))
    if not acts_for_station(current_user, contact.station):
        abort(403)
    return contact


@bp.route("/contacts/<int:contact_id>/new", methods=["GET", "POST"])
@login_required
def record(contact_id: int):
    contact = _contact_for_recording(contact_id)
    if contact.erased_at is not None:
        flash(_("This person's data has been erased: no basis can be recorded."), "error")
        return redirect(_contact_url(contact.id))
    form = RecordBasisForm()
    if request.method == "GET" and request.args.get("purpose") in {p.value for p in Purpose}:
        form.purpose.data = request.args["purpose"]
    if form.validate_on_submit():
        try:
            saved = consent.record(contact, form.purpose.data, form.basis.data, form.source.data, form.given_on.data,
                                   actor=current_user, expires_on=form.expires_on.data, evidence=form.evidence.data,
                                   text_version=form.text_version.data)
        except consent.ConsentError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("The lawful basis for “%(purpose)s” has been recorded.",
                    purpose=Purpose.label_of(saved.purpose)), "success")
            return redirect(_contact_url(contact.id))
    return render_template("privacy/consent_form.html", form=form, contact=contact,
                           purposes=list(consent.PURPOSES.values()))


def _show_error(form, exc: consent.ConsentError) -> None:
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def _consent_or_404(consent_id) -> ContactConsent:
    """A basis of a contact in the user's scope, with its contact and station, or 404."""
    ident = parse_id(consent_id)
    if ident is None:
        abort(404)
    stmt = scoped(select(ContactConsent).join(Contact, Contact.id == ContactConsent.contact_id)
                  .where(ContactConsent.id == ident), Contact)
    found = db.session.scalar(stmt.options(
        selectinload(ContactConsent.contact).selectinload(Contact.station),
        selectinload(ContactConsent.recorded_by), selectinload(ContactConsent.withdrawn_by)))
    if found is None:
        abort(404)
    return found


@bp.route("/<int:consent_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(consent_id: int):
    basis = _consent_or_404(consent_id)
    contact = basis.contact
    if not acts_for_station(current_user, contact.station):
        abort(403)
    form = WithdrawBasisForm()
    if basis.withdrawn_at is None and form.validate_on_submit():
        try:
            consent.withdraw(basis, current_user, form.note.data)
        except consent.ConsentError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("The lawful basis for “%(purpose)s” has been withdrawn.",
                    purpose=Purpose.label_of(basis.purpose)), "success")
            return redirect(_contact_url(contact.id))
    elif basis.withdrawn_at is not None and request.method == "POST":
        flash(_("This basis has already been withdrawn."), "warning")
        return redirect(_contact_url(contact.id))
    open_leads = []
    if basis.purpose == Purpose.PASS_TO_HQ:  # leads already with HQ stay there: the user may withdraw them
        open_leads = db.session.scalars(
            select(TalentLead).where(TalentLead.contact_id == contact.id,
                                     TalentLead.status.in_([LeadStatus.SUBMITTED, LeadStatus.UNDER_REVIEW,
                                                            LeadStatus.NEEDS_INFO, LeadStatus.ACCEPTED,
                                                            LeadStatus.REFERRED]))
            .order_by(TalentLead.id)).all()
    return render_template("privacy/consent_withdraw.html", form=form, basis=basis, contact=contact,
                           info=consent.PURPOSES.get(Purpose(basis.purpose)), open_leads=open_leads)


@bp.route("/expiring")
@login_required
def expiring():
    stmt = consent.expiring(current_user).options(
        selectinload(ContactConsent.contact).selectinload(Contact.station).selectinload(Station.region),
        selectinload(ContactConsent.recorded_by),
    ).order_by(ContactConsent.expires_on.asc().nulls_last(), ContactConsent.id.asc())
    page = keyset_page(stmt, per_page=25)
    return render_template("privacy/consent_expiring.html", page=page, on=consent.today(),
                           within=consent.EXPIRING_DAYS, lookback=consent.EXPIRED_LOOKBACK_DAYS)


# For templates ----------------------------------------------------------------------------

@bp.app_template_global()
def consent_panel(contact: Contact) -> dict:
    """What ``privacy/consent_panel.html`` shows for ``contact`` (its ``station`` loaded)."""
    return {"purposes": consent.overview(contact), "can_act": acts_for_station(current_user, contact.station)
            and contact.erased_at is None, "on": consent.today(), "expiring_days": consent.EXPIRING_DAYS}


@bp.app_template_global()
def basis_label(value: str | None):
    return LawfulBasis.label_of(value)


@bp.app_template_global()
def source_label(value: str | None):
    return ConsentSource.label_of(value)


@bp.app_template_global()
def purpose_label(value: str | None):
    return Purpose.label_of(value)


@bp.app_template_global()
def consent_missing_for_hq(contact_id: int) -> bool:
    """True when a lead about this contact could not go to HQ now (no valid PASS_TO_HQ basis)."""
    return consent.valid_basis(contact_id, Purpose.PASS_TO_HQ) is None


@bp.app_template_global()
def consents_to_renew() -> int:
    """How many bases the current user's stations should renew (capped at 100 + 1)."""
    if not current_user.is_authenticated or (current_user.is_hq and not current_user.is_admin):
        return 0
    return consent.expiring_count(current_user)
