from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import BaseForm, SelectMultipleField
from ..models import HostKind

MAX_ATTACHMENTS = 20


def _web_address(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


class WebAddress:
    def __call__(self, form, field):
        if field.data and not _web_address(field.data):
            raise ValidationError(_l("Enter a web address starting with https://, e.g. https://www.gov.cn/."))


class NoticeForm(BaseForm):
    title = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title in Chinese"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text in English"), validators=[DataRequired(), Length(max=20000)])
    body_zh = TextAreaField(_l("Text in Chinese"), validators=[DataRequired(), Length(max=20000)])
    link = StringField(_l("Link"), validators=[Optional(), Length(max=500), WebAddress()],
                       description=_l("The policy's own page, if any."))
    effective_from = DateField(_l("In effect from"), validators=[InputRequired(message=_l("Enter a date."))])
    effective_until = DateField(_l("In effect until"), validators=[Optional()],
                                description=_l("Blank: until further notice."))
    attachments = TextAreaField(
        _l("Attachments"), validators=[Optional(), Length(max=10000)],
        description=_l("One link a line: a label, a vertical bar and the address, e.g. "
                       "Application form | https://example.org/form.pdf"))
    to_all = BooleanField(_l("All stations"))
    regions = SelectMultipleField(_l("Regions"), coerce=int, validators=[Optional()])
    stations = SelectMultipleField(_l("Stations"), coerce=int, validators=[Optional()])
    host_kinds = SelectMultipleField(_l("Kinds of host"), choices=HostKind.choices(), validators=[Optional()])

    def __init__(self, *args, regions=(), stations=(), **kwargs):
        super().__init__(*args, **kwargs)
        from ..i18n import display_name, region_label

        self.regions.choices = [(r.id, region_label(r)) for r in regions]
        self.stations.choices = [(s.id, display_name(s)) for s in stations]
        self.parsed_attachments: list[tuple[str, str]] = []

    def validate_effective_until(self, field):
        if field.data and self.effective_from.data and field.data < self.effective_from.data:
            raise ValidationError(_l("The end cannot be before the start."))

    def validate_attachments(self, field):
        parsed = []
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            label, bar, url = line.rpartition("|")
            label, url = label.strip(), url.strip()
            if not bar or not label or not _web_address(url) or len(label) > 200 or len(url) > 500:
                raise ValidationError(_l("Line %(num)d: write a label, a vertical bar and an address starting "
                                         "with https://.", num=number))
            parsed.append((label, url))
        if len(parsed) > MAX_ATTACHMENTS:
            raise ValidationError(_l("At most %(num)d attachments.", num=MAX_ATTACHMENTS))
        self.parsed_attachments = parsed

    def validate_to_all(self, field):
        if not field.data and not (self.regions.data or self.stations.data or self.host_kinds.data):
            raise ValidationError(_l("Choose all stations, or at least one region, station or kind of host."))
