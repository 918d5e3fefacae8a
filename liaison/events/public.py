"""The public registration form (no account): bilingual, phone-friendly, CSRF, a rate limit per
address, a honeypot; and the confirmation page with its check-in QR code."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import limiter
from ..models import db
from ..notifications import mail
from . import services
from .forms import RegistrationForm
from .models import Event, EventRegistration, EventStation, EventStatus

bp = Blueprint("events_public", __name__, url_prefix="/e")

DEFAULT_LIMIT = "10 per minute;60 per hour"


def _limit() -> str:
    return current_app.config.get("EVENT_REGISTRATION_RATE_LIMIT") or DEFAULT_LIMIT


def _event_or_404(slug: str) -> Event:
    if not slug or len(slug) > 40:
        abort(404)
    event = db.session.scalar(select(Event).where(Event.slug == slug).options(
        selectinload(Event.organising).selectinload(EventStation.station)))
    if event is None:
        abort(404)
    return event


@bp.route("/<slug>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def register(slug):
    event = _event_or_404(slug)
    form = RegistrationForm()
    message = None
    is_open = services.registration_open(event)
    if form.is_submitted() and not is_open:
        message = _cancelled_or_closed(event)
    elif form.validate_on_submit():
        if form.website.data:  # the honeypot: a robot filled in the hidden field; nothing is written
            return render_template("events/public_thanks.html", event=event), 200
        try:
            result = services.register_public(event, {name: form[name].data for name in (
                "name", "name_original", "email", "phone", "organisation", "field", "country")})
        except services.Full as exc:
            message = str(exc.message)
        except services.Closed as exc:
            message = str(exc.message)
        else:
            return redirect(url_for("events_public.done", slug=event.slug, token=result.registration.token,
                                    again="1" if not result.created else None))
    elif not is_open:
        message = _cancelled_or_closed(event)
    return render_template("events/public.html", event=event, form=form, message=message, is_open=is_open,
                           full=event.capacity is not None and event.seats_taken >= event.capacity)


def _cancelled_or_closed(event: Event) -> str:
    if event.status == EventStatus.CANCELLED:
        return _("This event has been cancelled.")
    return str(services.Closed.message)


@bp.route("/<slug>/r/<token>")
def done(slug, token):
    from ..notices.services import qr_svg

    event = _event_or_404(slug)
    if not token or len(token) > 40:
        abort(404)
    registration = db.session.scalar(select(EventRegistration).where(EventRegistration.token == token,
                                                                      EventRegistration.event_id == event.id))
    if registration is None:
        abort(404)
    url = mail.absolute(url_for("events.by_token", token=registration.token))
    from flask import request

    return render_template("events/public_done.html", event=event, registration=registration, qr=qr_svg(url),
                           again=request.args.get("again") == "1")
