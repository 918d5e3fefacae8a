"""Files attached to leads: checking, storing, removing.

Who may attach
    Those who act for the lead's station (its volunteers, the regional admins of its region,
    admins), while the lead is editable by the station: a draft, or a lead HQ has asked more
    information about. HQ reviewers do not attach files: the material is the station's; HQ's
    own remarks go in comments. A file can be removed, while the lead is still editable, by the
    person who attached it or by an admin of the station's region (a volunteer may have left).

What is accepted
    ``ALLOWED`` by extension **and** by content: the first bytes (and, for Office files, the
    zip's table of contents) must match the extension, so an HTML page renamed ``cv.pdf`` is
    refused. No HTML, SVG, scripts or programs. At most ``ATTACHMENT_MAX_BYTES`` per file and
    ``ATTACHMENT_MAX_FILES`` per upload.

How it is stored
    Outside the web root, in ``ATTACHMENTS_DIR`` (default ``<instance>/attachments``), under a
    random name (``ab/ab12…``) — never the user's file name. The original name is kept in the
    database after cleaning (path parts, control and format characters removed; Chinese and
    other scripts kept), with the size and a SHA-256 checksum. The type served on download is
    the checked one, never what the browser claimed.

Every upload and removal is written to the lead's timeline (``LeadEvent`` kinds ``file_added``
and ``file_removed``, the file name as text). Adding a file does not change the lead's
version: a reviewer deciding at the same moment is not told "changed by someone else".
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from ..models import LeadAttachment, LeadEvent, LeadEventKind, LeadStatus, TalentLead, User, db
from ..permissions import acts_for_station, administers_region

log = logging.getLogger(__name__)

EDITABLE_STATUSES = frozenset({LeadStatus.DRAFT, LeadStatus.NEEDS_INFO})
MAX_NAME_LENGTH = 120
_KEY = re.compile(r"^[0-9a-f]{32}$")
_HTML = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|meta|link|style|\?xml)\b", re.I)


def _starts(*signatures: bytes):
    return lambda data: data.startswith(signatures)


def _ooxml(folder: str):
    """A zip with the Office Open XML table of contents and the application's folder."""

    def check(data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()  # the table of contents only: nothing is extracted
        except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError):
            return False
        return "[Content_Types].xml" in names and any(name.startswith(folder) for name in names)

    return check


def _text(data: bytes) -> bool:
    """Plain text in UTF-8 (with or without a BOM) or GB18030, not markup."""
    if b"\x00" in data or _HTML.search(data[:4096]):
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)
    return False


_OLE = _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # legacy Word/Excel (.doc, .xls)

# extension -> (content type served on download, content check, name shown in messages)
ALLOWED: dict[str, tuple[str, object, str]] = {
    "pdf": ("application/pdf", _starts(b"%PDF-"), "PDF"),
    "png": ("image/png", _starts(b"\x89PNG\r\n\x1a\n"), "PNG"),
    "jpg": ("image/jpeg", _starts(b"\xff\xd8\xff"), "JPEG"),
    "jpeg": ("image/jpeg", _starts(b"\xff\xd8\xff"), "JPEG"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ooxml("word/"), "Word"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ooxml("xl/"), "Excel"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ooxml("ppt/"),
             "PowerPoint"),
    "doc": ("application/msword", _OLE, "Word"),
    "xls": ("application/vnd.ms-excel", _OLE, "Excel"),
    "txt": ("text/plain", _text, "text"),
}


class UploadRefused(Exception):
    """A file that cannot be attached; ``message`` is shown next to the file field."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Upload:
    """A checked file, read into memory, not yet stored."""

    filename: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def allowed_extensions() -> str:
    return ", ".join(sorted(ALLOWED))


def max_megabytes(key: str = "ATTACHMENT_MAX_BYTES") -> str:
    value = current_app.config[key] / (1024 * 1024)
    return f"{value:g}" if value >= 1 else f"{value:.2f}"


def clean_filename(raw: str | None) -> str:
    """The name to keep and show: the last path part, without control or format characters
    (which can disguise an extension, e.g. U+202E), without characters Windows refuses in
    names, trimmed to ``MAX_NAME_LENGTH`` with the extension kept. Letters of every script stay:
    ``简历.pdf`` remains ``简历.pdf``. Never used as a path on disk."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = " ".join(name.split()).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if len(extension) > 10:  # not an extension: part of the name
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    stem = stem.strip(" .")[: MAX_NAME_LENGTH - len(suffix)].rstrip(" .")
    return (stem or "file") + suffix


def extension_of(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""


def check_upload(storage: FileStorage) -> Upload:
    """Read and check one uploaded file; raise ``UploadRefused`` with the reason."""
    filename = clean_filename(storage.filename)
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(_l("“%(name)s” is larger than %(limit)s MB.", name=filename, limit=max_megabytes()))
    if not data:
        raise UploadRefused(_l("“%(name)s” is empty.", name=filename))
    allowed = ALLOWED.get(extension_of(filename))
    if allowed is None:
        raise UploadRefused(_l("“%(name)s”: files of this type cannot be attached. Allowed: %(types)s.",
                               name=filename, types=allowed_extensions()))
    content_type, matches, kind = allowed
    if not matches(data):
        raise UploadRefused(_l("“%(name)s” is not a real %(kind)s file: its content does not match its name.",
                               name=filename, kind=kind))
    return Upload(filename=filename, content_type=content_type, data=data,
                  sha256=hashlib.sha256(data).hexdigest())


def check_uploads(files: Iterable[FileStorage]) -> tuple[list[Upload], list]:
    """Check every file; returns the good ones and one message per refused file."""
    files = [f for f in files if isinstance(f, FileStorage) and f]
    maximum = current_app.config["ATTACHMENT_MAX_FILES"]
    if len(files) > maximum:
        return [], [_l("Attach at most %(count)s files at once.", count=maximum)]
    uploads, problems = [], []
    for storage in files:
        try:
            uploads.append(check_upload(storage))
        except UploadRefused as exc:
            problems.append(exc.message)
    return uploads, problems


# Who may do what ---------------------------------------------------------------------------

def may_attach(lead: TalentLead, user: User) -> bool:
    """``lead.station`` must be loaded."""
    return lead.status in EDITABLE_STATUSES and acts_for_station(user, lead.station)


def may_remove(attachment: LeadAttachment, lead: TalentLead, user: User) -> bool:
    if not may_attach(lead, user):
        return False
    return attachment.uploaded_by_id == user.id or administers_region(user, lead.station.region_id)


# Storage -----------------------------------------------------------------------------------

def attachments_dir() -> Path:
    configured = current_app.config.get("ATTACHMENTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def path_of(storage_key: str) -> Path | None:
    """Where a stored file lives; ``None`` for a key that is not one of ours."""
    if not _KEY.match(storage_key or ""):
        return None
    return attachments_dir() / storage_key[:2] / storage_key


def _write(data: bytes) -> tuple[str, Path]:
    key = secrets.token_hex(16)
    path = path_of(key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return key, path


def discard(paths: Iterable[Path]) -> None:
    """Remove stored files whose database rows were not committed (or were deleted)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("could not remove the attachment file %s", path)


def stage(lead: TalentLead, uploads: Iterable[Upload], actor: User) -> list[Path]:
    """Store the files and add their rows and timeline events to the session, without
    committing: the caller commits them with whatever else it does (e.g. the answer to HQ) and
    calls ``discard`` on the returned paths if that fails."""
    if not may_attach(lead, actor):
        raise UploadRefused(_l("Files can be attached only to drafts and to leads HQ has asked about, "
                               "by those who act for the station."))
    paths: list[Path] = []
    try:
        for upload in uploads:
            key, path = _write(upload.data)
            paths.append(path)
            db.session.add(LeadAttachment(
                lead_id=lead.id, storage_key=key, filename=upload.filename, content_type=upload.content_type,
                size=upload.size, sha256=upload.sha256, uploaded_by_id=actor.id))
            db.session.add(LeadEvent(lead_id=lead.id, actor_id=actor.id, kind=LeadEventKind.FILE_ADDED,
                                     text=upload.filename))
    except BaseException:
        discard(paths)
        raise
    return paths


def attach(lead: TalentLead, uploads: list[Upload], actor: User) -> None:
    """Store and record the files, committed."""
    paths = stage(lead, uploads, actor)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        discard(paths)
        raise


def remove(attachment: LeadAttachment, lead: TalentLead, actor: User) -> None:
    """Delete the file and its row, recorded on the timeline."""
    if not may_remove(attachment, lead, actor):
        raise UploadRefused(_l("You cannot remove this file."))
    path = path_of(attachment.storage_key)
    db.session.add(LeadEvent(lead_id=lead.id, actor_id=actor.id, kind=LeadEventKind.FILE_REMOVED,
                             text=attachment.filename))
    db.session.delete(attachment)
    db.session.commit()
    if path is not None:
        discard([path])
