"""The appointment letter as a PDF, rendered by WeasyPrint (Pango and HarfBuzz shape the Chinese
text with the system's CJK fonts, e.g. ``fonts-noto-cjk``; the glyphs used are embedded)."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

from ..models import Appointment


STYLESHEETS = ("letter.css", "letter-pdf.css")  # the printable page's, then the PDF's own


def letter_css() -> str:
    static = Path(current_app.static_folder)
    return "\n".join((static / name).read_text(encoding="utf-8") for name in STYLESHEETS)


def letter_pdf(appointment: Appointment) -> bytes:
    """The PDF of ``appointment``'s letter (A4). The page has no external resource to fetch (its
    stylesheets are handed over as text, it has no image)."""
    from weasyprint import CSS, HTML

    html = render_template("appointments/letter_pdf.html", appointment=appointment)
    return HTML(string=html).write_pdf(stylesheets=[CSS(string=letter_css())])


def filename(appointment: Appointment) -> str:
    return f"appointment-letter-{appointment.id}.pdf"
