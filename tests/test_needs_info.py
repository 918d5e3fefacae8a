"""The needs-info round trip (issue 8, item 8): HQ's question at the top of the lead, the
station's answer box right under it with its own caption and room for files, the answer next to
the question on the timeline."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from liaison.leads.workflow import apply_move
from liaison.models import LeadAttachment, LeadEvent, LeadStatus, Station, TalentLead, User, db

from .factories import make_lead
from .helpers import snapshot
from .test_bad_input import page_of

QUESTION = "Which university awarded the PhD, and when can the person visit?"
ANSWER = "Politecnico di Milano, 2019; the person can visit in March."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def load_lead(lead_id) -> TalentLead:
    return db.session.scalar(select(TalentLead).where(TalentLead.id == lead_id)
                             .options(selectinload(TalentLead.station).selectinload(Station.region)))


def needs_info_lead(app, world, question=QUESTION, station="hanoi") -> int:
    with app.app_context():
        try:
            lead_id = make_lead(world, station, LeadStatus.UNDER_REVIEW)
            lead = load_lead(lead_id)
            apply_move(lead, "request_info", db.session.get(User, world.users["hq"]), question)
            db.session.commit()
            return lead_id
        finally:
            db.session.remove()


def question_panel(body: str) -> str:
    found = re.search(r'<section[^>]*id="question".*?</section>', body, re.S)
    return found.group(0) if found else ""


def status_of(app, lead_id) -> str:
    with app.app_context():
        try:
            return db.session.get(TalentLead, lead_id).status
        finally:
            db.session.remove()


def stored_files(app) -> list:
    root = app.config["ATTACHMENTS_DIR"]
    import os

    return [os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files] if os.path.isdir(root) else []


@pytest.mark.parametrize("role", ["vol_hanoi", "asean_admin", "admin"])
def test_the_question_is_at_the_top_with_the_answer_box_under_it(app, client, login, world, role):
    lead_id = needs_info_lead(app, world)
    login(role)
    body = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    panel = question_panel(body)
    assert panel, "no question panel"
    # Above the lead's own card and the timeline.
    assert body.index('id="question"') < body.index('id="timeline"')
    assert body.index('id="question"') < body.index(">Summary<")
    assert QUESTION in panel and "Hq" in panel  # the text and who asked
    # The answer form sits in the panel, with its own caption and a file field.
    assert 'name="move" value="answer"' in panel
    assert "Your answer to HQ" in panel
    assert 'type="file"' in panel and "multiple" in panel and 'enctype="multipart/form-data"' in panel
    assert "so that the station knows" not in panel
    # Not offered a second time in the actions column.
    assert body.count('name="move" value="answer"') == 1


@pytest.mark.parametrize("role", ["hq", "hq2"])
def test_hq_sees_the_question_read_only(app, client, login, world, role):
    lead_id = needs_info_lead(app, world)
    login(role)
    panel = question_panel(client.get(f"/leads/{lead_id}").get_data(as_text=True))
    assert QUESTION in panel
    assert "Waiting for the station&#39;s answer." in panel or "Waiting for the station's answer." in panel
    assert "<form" not in panel


def test_no_panel_when_the_lead_does_not_wait_for_an_answer(app, client, login, world):
    login("vol_hanoi")
    for key in ("hanoi_draft", "hanoi_submitted"):
        assert not question_panel(client.get(f"/leads/{world.leads[key]}").get_data(as_text=True))


def test_the_latest_question_is_shown(app, client, login, world):
    """Asked, answered, asked again: the panel shows the second question only."""
    lead_id = needs_info_lead(app, world, question="First question")
    with app.app_context():
        lead = load_lead(lead_id)
        apply_move(lead, "answer", db.session.get(User, world.users["vol_hanoi"]), "First answer")
        apply_move(lead, "start_review", db.session.get(User, world.users["hq"]))
        apply_move(lead, "request_info", db.session.get(User, world.users["hq2"]), "Second question")
        db.session.commit()
        db.session.remove()
    login("vol_hanoi")
    panel = question_panel(client.get(f"/leads/{lead_id}").get_data(as_text=True))
    assert "Second question" in panel and "Hq2" in panel
    assert "First question" not in panel


def test_answer_with_files_in_one_submit(app, client, login, world):
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    version = _version(app, lead_id)
    response = client.post(f"/leads/{lead_id}/move", content_type="multipart/form-data", data={
        "move": "answer", "version": str(version), "comment": ANSWER,
        "files": [(io.BytesIO(PDF), "简历.pdf"), (io.BytesIO("补充材料：访问时间".encode()), "说明.txt")]})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert status_of(app, lead_id) == LeadStatus.SUBMITTED
    with app.app_context():
        names = db.session.scalars(select(LeadAttachment.filename).where(LeadAttachment.lead_id == lead_id)
                                   .order_by(LeadAttachment.id)).all()
        kinds = db.session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == lead_id)
                                   .order_by(LeadEvent.id)).all()
    assert names == ["简历.pdf", "说明.txt"]
    assert kinds[-3:] == ["file_added", "file_added", "status"]
    assert len(stored_files(app)) == 2

    body = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert not question_panel(body)  # answered: the lead is back with HQ
    timeline = body[body.index('id="timeline"'):]
    # The answer right above the question (newest first), the files with it.
    assert timeline.index(ANSWER) < timeline.index(QUESTION)
    assert "The station answered and resubmitted" in timeline and "HQ asked for more information" in timeline
    assert "File attached: 简历.pdf" in timeline
    # HQ sees the answer and can download the files.
    login("hq")
    body = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert ANSWER in body and "简历.pdf" in body


def _version(app, lead_id) -> int:
    with app.app_context():
        try:
            return db.session.get(TalentLead, lead_id).version
        finally:
            db.session.remove()


def test_answer_without_comment_keeps_the_files_out(app, client, login, world):
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", content_type="multipart/form-data", data={
        "move": "answer", "version": str(_version(app, lead_id)), "comment": "  ",
        "files": [(io.BytesIO(PDF), "cv.pdf")]})
    assert response.status_code == 400
    page = page_of(response)
    assert "Please add a comment" in page.error_of("comment", page.form_with("move", "answer"))
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_answer_with_a_bad_file_writes_nothing(app, client, login, world):
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", content_type="multipart/form-data", data={
        "move": "answer", "version": str(_version(app, lead_id)), "comment": ANSWER,
        "files": [(io.BytesIO(PDF), "cv.pdf"), (io.BytesIO(b"<html><script>alert(1)</script>"), "cv2.pdf")]})
    assert response.status_code == 400
    page = page_of(response)
    form = page.form_with("move", "answer")
    assert "cv2.pdf" in page.error_of("files", form)
    assert page.kept("comment", form) == ANSWER  # what was typed is kept
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_answer_on_a_stale_page_stores_no_file(app, client, login, world):
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", content_type="multipart/form-data", data={
        "move": "answer", "version": str(_version(app, lead_id) - 1), "comment": ANSWER,
        "files": [(io.BytesIO(PDF), "cv.pdf")]})
    assert response.status_code == 409
    assert "Someone else changed this lead" in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_answer_refused_by_a_plugin_stores_no_file(app, client, login, world, monkeypatch):
    from liaison.leads import services

    monkeypatch.setattr(services.plugins, "validate_lead", lambda lead, action: ["A plugin objects."])
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", content_type="multipart/form-data", data={
        "move": "answer", "version": str(_version(app, lead_id)), "comment": ANSWER,
        "files": [(io.BytesIO(PDF), "cv.pdf")]})
    assert response.status_code == 400
    assert "A plugin objects." in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_files_go_with_the_answer_only(app, client, login, world):
    """HQ cannot slip a file in with another move."""
    lead_id = world.leads["hanoi_submitted"]
    login("hq")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", content_type="multipart/form-data", data={
        "move": "start_review", "version": str(_version(app, lead_id)), "files": [(io.BytesIO(PDF), "cv.pdf")]})
    assert response.status_code == 400
    assert snapshot(app) == before
    assert stored_files(app) == []


def test_answer_without_files_still_works(app, client, login, world):
    lead_id = needs_info_lead(app, world)
    login("asean_admin")
    response = client.post(f"/leads/{lead_id}/move", data={
        "move": "answer", "version": str(_version(app, lead_id)), "comment": ANSWER})
    assert response.status_code == 302
    assert status_of(app, lead_id) == LeadStatus.SUBMITTED


def test_the_question_panel_is_bilingual(app, client, login, world):
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    client.post("/language", data={"locale": "zh_Hans_CN"})
    panel = question_panel(client.get(f"/leads/{lead_id}").get_data(as_text=True))
    assert "总部" in panel and "Your answer to HQ" not in panel


def test_an_answer_too_large_to_read_is_refused_cleanly(app, client, login, world):
    app.config["ATTACHMENT_MAX_REQUEST_BYTES"] = 5000
    lead_id = needs_info_lead(app, world)
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", content_type="multipart/form-data", data={
        "move": "answer", "version": str(_version(app, lead_id)), "comment": ANSWER,
        "files": [(io.BytesIO(PDF + b"x" * 6000), "cv.pdf")]})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "larger than" in body and QUESTION in question_panel(body)  # the page, the question, the message
    assert snapshot(app) == before
    assert stored_files(app) == []
