"""The appointment letter as a PDF, rendered by WeasyPrint (Pango and HarfBuzz shape the Chinese
text with the system's CJK fonts, e.g. ``fonts-noto-cjk``; the glyphs used are embedded)."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

from ..models import Appointment


def letter_css() -> str:
    return (Path(current_app.static_folder) / "letter.css").read_text(encoding="utf-8")


def letter_pdf(appointment: Appointment) -> bytes:
    """The PDF of ``appointment``'s letter (A4). The page has no external resource to fetch (its
    stylesheet is inlined, it has no image)."""
    from weasyprint import HTML

    html = render_template("appointments/letter_pdf.html", appointment=appointment, letter_css=letter_css())
    return HTML(string=html).write_pdf()


def filename(appointment: Appointment) -> str:
    return f"appointment-letter-{appointment.id}.pdf"
