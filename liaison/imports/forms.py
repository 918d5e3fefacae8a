from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField
from wtforms.validators import InputRequired

from ..forms import BaseForm, SelectField, options
from ..models.imports import ImportMode
from .mapping import IGNORE


class UploadForm(BaseForm):
    record_type = RadioField(_l("The file holds"), choices=options([("contacts", _l("Contacts")),
                                                                    ("leads", _l("Leads with their contact"))]),
                             default="contacts", validators=[])  # not sent: contacts
    file = FileField(_l("Spreadsheet (CSV or Excel .xlsx)"))


def mapping_form(header: list[str], targets, formdata=None, data: dict | None = None):
    """One select per column of the file: which field it goes into (or none)."""

    class MappingForm(BaseForm):
        pass

    choices = [(IGNORE, _l("— do not import —"))] + [(t.key, t.label) for t in targets]
    for index, text in enumerate(header):
        setattr(MappingForm, f"col_{index}", SelectField(text or _l("Column %(number)s", number=index + 1),
                                                         choices=choices, validators=[]))
    values = {f"col_{k}": v for k, v in (data or {}).items()}
    form = MappingForm(formdata=formdata, data=values) if formdata is not None else MappingForm(data=values)
    return form


class CommitForm(BaseForm):
    mode = RadioField(_l("Rows that match a contact of the station"), choices=options(ImportMode.choices()),
                      default=ImportMode.SKIP.value, validators=[InputRequired()])
    leave_out_errors = BooleanField(_l("Leave out the rows with problems and import the others"))


class ActionForm(BaseForm):
    """A button: revert, discard (CSRF only)."""


__all__ = ["ActionForm", "CommitForm", "UploadForm", "mapping_form"]
