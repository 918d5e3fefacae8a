"""Forms for lawful bases: record one, withdraw one, and the "The person agreed to…" fieldset of
the new-contact form. The rules are ``liaison.privacy.consent.check``'s; the forms say the same
things next to the fields."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import BaseForm, SelectField
from ..models import ConsentSource, LawfulBasis, Purpose
from . import consent


class NotInFuture:
    def __call__(self, form, field):
        if field.data is not None and field.data > consent.today():
            raise ValidationError(_l("The date cannot be in the future."))


class ExpiryAfter:
    """The expiry is on or after ``given_field``'s date and not already past."""

    def __init__(self, given_field: str):
        self.given_field = given_field

    def __call__(self, form, field):
        if field.data is None:
            return
        given = form[self.given_field].data
        if given is not None and field.data < given:
            raise ValidationError(_l("The expiry date cannot be before the date given."))
        if field.data < consent.today():
            raise ValidationError(_l("This date has passed: the basis would already have expired. "
                                     "Record a current basis, or leave the expiry empty."))


def _purpose_choices():
    return [(p.value, p.label) for p in consent.PURPOSES]


class RecordBasisForm(BaseForm):
    purpose = SelectField(_l("Purpose"), choices=_purpose_choices(), validators=[DataRequired()])
    basis = SelectField(_l("Lawful basis"), choices=LawfulBasis.choices(), default=LawfulBasis.CONSENT.value,
                        validators=[DataRequired()],
                        description=_l("Consent: the person agreed. Contract: needed for an agreement with the "
                                       "person. Legitimate interest: the station's interest, weighed against "
                                       "the person's. Public task: the bureau's official duty."))
    source = SelectField(_l("Source"), choices=[("", "—")] + ConsentSource.choices(), validators=[DataRequired(
        message=_l("Say where the basis comes from, e.g. the web form or an e-mail."))],
        description=_l("How the person agreed or how the station learnt of the basis."))
    given_on = DateField(_l("Given on"), default=consent.today,
                         validators=[InputRequired(message=_l("Give the date the person agreed or the basis began.")),
                                     NotInFuture()])
    expires_on = DateField(_l("Expires on"), validators=[Optional(), ExpiryAfter("given_on")],
                           description=_l("Leave empty if the basis does not expire."))
    evidence = TextAreaField(_l("Evidence"), validators=[Optional(), Length(max=4000)],
                             description=_l("Where the proof is kept, e.g. “signed form in the station's binder, "
                                            "2026/14” or “e-mail of 3 March, forwarded to the station's mailbox”."))
    text_version = StringField(_l("Version of the consent text"), validators=[Optional(), Length(max=40)],
                               description=_l("The version of the wording the person saw, e.g. 2026-11."))


class WithdrawBasisForm(BaseForm):
    note = TextAreaField(_l("How the person withdrew"), validators=[
        DataRequired(message=_l("Say how and when the person withdrew, e.g. “asked by e-mail on 3 March”.")),
        Length(max=300)])


class AgreedOnCreation:
    """Fields of the new-contact form: what the person agreed to when the contact was recorded."""

    agree_keep_in_touch = BooleanField(_l("being kept in touch with about talent programmes"))
    agree_pass_to_hq = BooleanField(_l("having their profile passed to HQ and partner departments in China"),
                                    description=_l("Needed before a talent lead about the person can be submitted."))
    # No ``Optional()``: it would stop the checks below, which need the ticks.
    consent_source = SelectField(_l("How the person agreed"), choices=[("", "—")] + ConsentSource.choices(), default="")
    consent_given_on = DateField(_l("Agreed on"), default=consent.today, validators=[NotInFuture()])
    consent_evidence = StringField(_l("Evidence"), validators=[Optional(), Length(max=300)],
                                   description=_l("e.g. signed form in the station's binder"))

    def validate_consent_source(self, field):
        if (self.agree_keep_in_touch.data or self.agree_pass_to_hq.data) and not field.data:
            raise ValidationError(_l("Say how the person agreed, e.g. the web form or verbally."))

    def validate_consent_given_on(self, field):
        if not (self.agree_keep_in_touch.data or self.agree_pass_to_hq.data):
            field.errors[:] = []  # nothing agreed: the date does not matter
            return
        if field.data is None and not "".join(field.raw_data or []).strip():
            field.errors[:] = []
            raise ValidationError(_l("Give the date the person agreed."))

    def agreed_purposes(self) -> list[Purpose]:
        return [purpose for purpose, ticked in ((Purpose.KEEP_IN_TOUCH, self.agree_keep_in_touch.data),
                                                (Purpose.PASS_TO_HQ, self.agree_pass_to_hq.data)) if ticked]
