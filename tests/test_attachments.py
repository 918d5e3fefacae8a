"""Files attached to leads (issue 8, item 8): who may attach and remove, what is accepted, how
files are stored and served, and bad uploads (never a 500, the message next to the field,
nothing written)."""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from urllib.parse import quote

import pytest
from sqlalchemy import select

from liaison.leads.files import clean_filename
from liaison.models import LeadAttachment, LeadEvent, Station, User, db

from .helpers import snapshot
from .test_bad_input import page_of
from .test_needs_info import needs_info_lead

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def ooxml(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}document.xml", "<document/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", "MZ")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def stored_files(app) -> list[str]:
    root = app.config["ATTACHMENTS_DIR"]
    return sorted(os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files)


def attachments(app, lead_id=None) -> list[LeadAttachment]:
    with app.app_context():
        try:
            stmt = select(LeadAttachment).order_by(LeadAttachment.id)
            if lead_id is not None:
                stmt = stmt.where(LeadAttachment.lead_id == lead_id)
            found = db.session.scalars(stmt).all()
            db.session.expunge_all()
            return found
        finally:
            db.session.remove()


def upload(client, lead_id, *files):
    return client.post(f"/leads/{lead_id}/attachments", content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(data), name) for name, data in files]})


# File names --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,clean", [
    ("简历.pdf", "简历.pdf"),
    ("Nguyễn Văn An – CV.docx", "Nguyễn Văn An – CV.docx"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\win.ini.txt", "win.ini.txt"),
    ("C:\\Users\\an\\Desktop\\cv.pdf", "cv.pdf"),
    ("/var/www/static/x.png", "x.png"),
    ("a\x00b\r\nc.pdf", "abc.pdf"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),  # the right-to-left override hides ".exe"
    ('what?<is>"this"|*.pdf', "what__is__this___.pdf"),
    ("  spaced   out  .pdf ", "spaced out.pdf"),
    ("", "file"), ("...", "file"), ("../", "file"), (".pdf", "pdf"), ("cv.pdf.", "cv.pdf"),
    (None, "file"),
])
def test_clean_filename(raw, clean):
    assert clean_filename(raw) == clean


def test_a_300_character_name_is_shortened_keeping_the_extension():
    name = clean_filename("简" * 300 + ".pdf")
    assert len(name) <= 120 and name.endswith(".pdf") and name.startswith("简简")


# Uploading -----------------------------------------------------------------------------------

GOOD = [("简历.pdf", PDF, "application/pdf"), ("photo.PNG", PNG, "image/png"), ("photo.jpg", JPG, "image/jpeg"),
        ("cv.docx", ooxml("word/"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("plan.xlsx", ooxml("xl/"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("slides.pptx", ooxml("ppt/"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("old.doc", OLE, "application/msword"), ("old.xls", OLE, "application/vnd.ms-excel"),
        ("说明.txt", "对方计划明年三月来访。\nVisit in March.".encode(), "text/plain"),
        ("gbk.txt", "中文说明".encode("gb18030"), "text/plain")]


@pytest.mark.parametrize("name,data,content_type", GOOD, ids=[g[0] for g in GOOD])
def test_a_good_file_is_stored_under_a_random_name(app, client, login, world, name, data, content_type):
    lead_id = world.leads["hanoi_draft"]
    login("vol_hanoi")
    response = upload(client, lead_id, (name, data))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [attachment] = attachments(app, lead_id)
    assert (attachment.filename, attachment.content_type, attachment.size) == (name, content_type, len(data))
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.uploaded_by_id == world.users["vol_hanoi"]
    [path] = stored_files(app)
    assert os.path.basename(path) == attachment.storage_key and len(attachment.storage_key) == 32
    assert os.path.dirname(path) == os.path.join(app.config["ATTACHMENTS_DIR"], attachment.storage_key[:2])
    assert open(path, "rb").read() == data
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    with app.app_context():
        event = db.session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.id.desc()))
        assert (event.kind, event.text, event.actor_id) == ("file_added", name, world.users["vol_hanoi"])
    body = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert f"/leads/{lead_id}/attachments/{attachment.id}" in body  # listed with a download link
    assert f"File attached: {name}" in body  # and on the timeline


def test_several_files_at_once(app, client, login, world):
    login("asean_admin")
    response = upload(client, world.leads["hanoi_draft"], ("a.pdf", PDF), ("b.png", PNG), ("c.txt", b"notes"))
    assert response.status_code == 302
    assert [a.filename for a in attachments(app)] == ["a.pdf", "b.png", "c.txt"]
    assert len(stored_files(app)) == 3


def test_the_default_directory_is_in_the_instance_folder(app):
    from liaison.leads import files

    with app.test_request_context():
        app.config["ATTACHMENTS_DIR"] = None
        assert files.attachments_dir() == __import__("pathlib").Path(app.instance_path) / "attachments"


BAD = {
    # case: (files, message)
    "empty file": ([("cv.pdf", b"")], "is empty"),
    "too big": ([("big.pdf", PDF + b"x" * 2000)], "is larger than"),
    "executable": ([("setup.exe", b"MZ\x90\x00")], "files of this type cannot be attached"),
    "html": ([("page.html", HTML)], "files of this type cannot be attached"),
    "svg": ([("logo.svg", SVG)], "files of this type cannot be attached"),
    "no extension": ([("README", b"hello")], "files of this type cannot be attached"),
    "html named .pdf": ([("cv.pdf", HTML)], "is not a real PDF file"),
    "html named .txt": ([("notes.txt", HTML)], "is not a real text file"),
    "svg named .png": ([("logo.png", SVG)], "is not a real PNG file"),
    "zip named .docx": ([("cv.docx", plain_zip())], "is not a real Word file"),
    "pdf named .xlsx": ([("plan.xlsx", PDF)], "is not a real Excel file"),
    "binary named .txt": ([("notes.txt", b"\x00\x01\x02binary")], "is not a real text file"),
    "one bad among good": ([("a.pdf", PDF), ("b.pdf", HTML)], "“b.pdf” is not a real PDF file"),
    "too many files": ([(f"{n}.pdf", PDF) for n in range(6)], "Attach at most 5 files at once."),
    "no file": ([], "Choose a file to attach."),
    "traversal to an html": ([("../../static/evil.html", HTML)], "“evil.html”: files of this type"),
}


@pytest.fixture
def app_config():
    return {"ATTACHMENT_MAX_BYTES": 1000}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_upload_is_refused_next_to_the_field(app, client, login, world, case):
    files, message = BAD[case]
    lead_id = world.leads["hanoi_draft"]
    login("vol_hanoi")
    before = snapshot(app)
    response = upload(client, lead_id, *files)
    assert response.status_code == 400
    error = page_of(response).error_of("files")
    assert message in error, error
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_a_file_name_with_path_parts_is_stored_safely(app, client, login, world):
    login("vol_hanoi")
    response = upload(client, world.leads["hanoi_draft"], ("../../../../etc/cron.d/x.pdf", PDF),
                      ("简" * 300 + ".pdf", PDF))
    assert response.status_code == 302
    names = [a.filename for a in attachments(app)]
    assert names[0] == "x.pdf"
    assert len(names[1]) <= 120 and names[1].endswith(".pdf")
    root = os.path.realpath(app.config["ATTACHMENTS_DIR"])
    assert all(os.path.realpath(p).startswith(root + os.sep) for p in stored_files(app))
    assert len(stored_files(app)) == 2


def test_a_request_over_the_upload_limit_is_refused_cleanly(app, client, login, world):
    app.config["ATTACHMENT_MAX_REQUEST_BYTES"] = 5000
    login("vol_hanoi")
    before = snapshot(app)
    response = upload(client, world.leads["hanoi_draft"], ("big.pdf", PDF + b"x" * 6000))
    assert response.status_code == 413
    assert "larger than" in page_of(response).error_of("files")
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_other_forms_keep_the_small_request_limit(app, client, login, world):
    """The larger limit is the upload routes' only."""
    app.config["MAX_CONTENT_LENGTH"] = 5000
    login("vol_hanoi")
    response = client.post(f"/leads/{world.leads['hanoi_submitted']}/comment", data={"text": "x" * 6000})
    assert response.status_code == 413


# Who may attach -------------------------------------------------------------------------------

@pytest.mark.parametrize("role,expected", [("vol_hanoi", 302), ("asean_admin", 302), ("admin", 302),
                                           ("hq", 403), ("hq2", 403), ("vol_bangkok", 404), ("vol_milan", 404),
                                           ("europe_admin", 404)])
def test_who_may_attach_to_a_draft(app, client, login, world, role, expected):
    login(role)
    response = upload(client, world.leads["hanoi_draft"], ("cv.pdf", PDF))
    assert response.status_code == expected
    assert len(attachments(app)) == (1 if expected == 302 else 0)


def test_files_can_be_attached_while_hq_asks_for_information(app, client, login, world):
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    assert upload(client, lead_id, ("cv.pdf", PDF)).status_code == 302
    assert len(attachments(app, lead_id)) == 1


def test_no_files_once_the_lead_is_with_hq(app, client, login, world):
    login("vol_hanoi")
    before = snapshot(app)
    response = upload(client, world.leads["hanoi_submitted"], ("cv.pdf", PDF))
    assert response.status_code == 302
    assert "Files can be attached only to drafts" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_no_files_for_a_suspended_station(app, client, login, world):
    with app.app_context():
        db.session.get(Station, world.stations["hanoi"]).status = "suspended"
        db.session.commit()
        db.session.remove()
    login("vol_hanoi")
    assert upload(client, world.leads["hanoi_draft"], ("cv.pdf", PDF)).status_code == 403
    assert attachments(app) == []


def test_the_upload_form_is_shown_to_those_who_may_attach(app, client, login, world):
    lead_id = world.leads["hanoi_draft"]
    login("vol_hanoi")
    assert f'action="/leads/{lead_id}/attachments"' in client.get(f"/leads/{lead_id}").get_data(as_text=True)
    login("hq")
    assert f'action="/leads/{lead_id}/attachments"' not in client.get(f"/leads/{lead_id}").get_data(as_text=True)


# Downloading ---------------------------------------------------------------------------------

def _attached(app, client, login, world, name="简历.pdf", data=PDF, role="vol_hanoi"):
    login(role)
    assert upload(client, world.leads["hanoi_draft"], (name, data)).status_code == 302
    return attachments(app)[-1]


def test_download_is_an_attachment_with_the_original_name(app, client, login, world):
    attachment = _attached(app, client, login, world)
    login("hq")
    response = client.get(f"/leads/{world.leads['hanoi_draft']}/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('简历.pdf')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "no-store" in response.headers["Cache-Control"]


def test_a_text_file_is_never_served_as_html(app, client, login, world):
    attachment = _attached(app, client, login, world, name="notes.txt", data=b"plain <b>text</b>")
    response = client.get(f"/leads/{world.leads['hanoi_draft']}/attachments/{attachment.id}")
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("role,expected", [("vol_hanoi", 200), ("asean_admin", 200), ("hq", 200), ("admin", 200),
                                           ("vol_milan", 404), ("vol_bangkok", 404), ("europe_admin", 404)])
def test_downloads_are_scoped(app, client, login, world, role, expected):
    attachment = _attached(app, client, login, world)
    login(role)
    assert client.get(f"/leads/{world.leads['hanoi_draft']}/attachments/{attachment.id}").status_code == expected


def test_a_file_is_only_found_through_its_own_lead(app, client, login, world):
    attachment = _attached(app, client, login, world)
    login("admin")
    for lead in ("hanoi_submitted", "milan_draft"):
        assert client.get(f"/leads/{world.leads[lead]}/attachments/{attachment.id}").status_code == 404
    assert client.get(f"/leads/{world.leads['hanoi_draft']}/attachments/999999").status_code == 404


def test_anonymous_download_asks_to_log_in(app, client, login, world):
    attachment = _attached(app, client, login, world)
    app.test_client()
    fresh = app.test_client()
    response = fresh.get(f"/leads/{world.leads['hanoi_draft']}/attachments/{attachment.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_missing_file_is_404_not_500(app, client, login, world):
    attachment = _attached(app, client, login, world)
    for path in stored_files(app):
        os.remove(path)
    assert client.get(f"/leads/{world.leads['hanoi_draft']}/attachments/{attachment.id}").status_code == 404


# Removing ------------------------------------------------------------------------------------

@pytest.fixture
def second_volunteer(app, world):
    with app.app_context():
        user = User(email="vol_hanoi2@example.org", name="Second Hanoi", role="volunteer",
                    stations=[db.session.get(Station, world.stations["hanoi"])])
        from .conftest import PASSWORD

        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        db.session.remove()
    world.emails["vol_hanoi2"] = "vol_hanoi2@example.org"


@pytest.mark.parametrize("role,expected", [("vol_hanoi", 302), ("asean_admin", 302), ("admin", 302),
                                           ("vol_hanoi2", 403), ("hq", 403), ("vol_milan", 404),
                                           ("europe_admin", 404)])
def test_who_may_remove_a_file(app, client, login, world, second_volunteer, role, expected):
    attachment = _attached(app, client, login, world)
    login(role)
    response = client.post(f"/leads/{world.leads['hanoi_draft']}/attachments/{attachment.id}/remove")
    assert response.status_code == expected
    if expected == 302:
        assert attachments(app) == [] and stored_files(app) == []
        with app.app_context():
            event = db.session.scalar(select(LeadEvent).order_by(LeadEvent.id.desc()))
            assert (event.kind, event.text) == ("file_removed", "简历.pdf")
        assert "File removed: 简历.pdf" in client.get(response.headers["Location"]).get_data(as_text=True)
    else:
        assert len(attachments(app)) == 1 and len(stored_files(app)) == 1


def test_no_removal_once_the_lead_is_with_hq(app, client, login, world):
    attachment = _attached(app, client, login, world)
    with app.app_context():
        from .test_needs_info import load_lead
        from liaison.leads.workflow import apply_move

        apply_move(load_lead(world.leads["hanoi_draft"]), "submit", db.session.get(User, world.users["vol_hanoi"]))
        db.session.commit()
        db.session.remove()
    before = snapshot(app)
    response = client.post(f"/leads/{world.leads['hanoi_draft']}/attachments/{attachment.id}/remove")
    assert response.status_code == 403
    assert snapshot(app) == before and len(stored_files(app)) == 1
    body = client.get(f"/leads/{world.leads['hanoi_draft']}").get_data(as_text=True)
    assert "简历.pdf" in body and f"/attachments/{attachment.id}/remove" not in body


def test_remove_button_only_for_those_who_may(app, client, login, world):
    attachment = _attached(app, client, login, world)
    url = f"/attachments/{attachment.id}/remove"
    assert url in client.get(f"/leads/{world.leads['hanoi_draft']}").get_data(as_text=True)
    login("hq")
    assert url not in client.get(f"/leads/{world.leads['hanoi_draft']}").get_data(as_text=True)


def test_the_lead_page_stays_one_query_per_collection(app, client, login, world, count_queries):
    """Files are loaded with the lead (lazy="raise" would fail otherwise), not one query each."""
    login("vol_hanoi")
    upload(client, world.leads["hanoi_draft"], ("a.pdf", PDF))
    with count_queries() as one:
        client.get(f"/leads/{world.leads['hanoi_draft']}")
    upload(client, world.leads["hanoi_draft"], ("b.pdf", PDF), ("c.pdf", PDF))
    with count_queries() as three:
        client.get(f"/leads/{world.leads['hanoi_draft']}")
    assert three.count == one.count
