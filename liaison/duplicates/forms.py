from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField
from wtforms.validators import DataRequired

from ..forms import BaseForm, options

SURVIVOR, MERGED, BOTH = "survivor", "merged", "both"
BOTH_FIELDS = ("notes",)  # texts that can be kept together


class ActionForm(BaseForm):
    """A button that only needs its CSRF token (dismiss, undo)."""


class MergeFormBase(BaseForm):
    confirm = BooleanField(_l("I have compared both contacts: they are the same person. Merge them."),
                           validators=[DataRequired(message=_l("Tick this box to confirm the merge."))])

    def choices(self) -> dict[str, str]:
        """``{contact field: "survivor" | "merged" | "both"}``."""
        return {name[len("field_"):]: f.data for name, f in self._fields.items() if name.startswith("field_")}


def merge_form_class(fields: list[str], labels: dict[str, str]) -> type[MergeFormBase]:
    """A form with one choice per contact field (which value survives)."""
    attrs = {}
    for name in fields:
        pairs = [(SURVIVOR, _l("Keep")), (MERGED, _l("Take the other"))]
        if name in BOTH_FIELDS:
            pairs.append((BOTH, _l("Keep both")))
        attrs[f"field_{name}"] = RadioField(labels.get(name, name), choices=options(pairs), default=SURVIVOR)
    return type("MergeForm", (MergeFormBase,), attrs)
