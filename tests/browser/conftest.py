"""Browser journeys: a live server with the demo data, driven by Debian's Chromium.

One live server (a fresh SQLite database, migrated, with the demo data; CSRF on, as in
production) and one Chromium per pytest(-xdist) worker, both session-scoped. Every page a
journey opens goes through ``Journey``, which fails the test on a console error, a failed
request or a request to any host but the app's, runs axe-core on each page it visits and
saves screenshots into ``tests/browser/screenshots/`` (git-ignored).

Chromium comes from ``apt-get install chromium`` (``LIAISON_CHROMIUM`` overrides the path);
Playwright's own browser download is not used. Without Chromium these tests error (they are
never skipped); ``make test`` leaves them out, in one line, when Chromium is missing outside CI.
"""
from __future__ import annotations

import os
import re
import shutil
import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

from liaison import create_app
from liaison.models import db

from .journey import SCREENSHOTS, Journey, Translator

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def chromium_path() -> str:
    configured = os.environ.get("LIAISON_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    path = chromium_path()
    if not os.path.exists(path):
        pytest.fail(f"Chromium not found at {path}: apt-get install -y chromium (or set LIAISON_CHROMIUM).",
                    pytrace=False)
    return {
        "executable_path": path,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    }


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # the journeys report what matters themselves
        pass


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on 127.0.0.1 (a free port) in a thread, over a fresh database with the demo data."""
    folder = tmp_path_factory.mktemp("live")
    config = {
        "TESTING": True,  # no instance/config.py written; CSRF stays on (WTF_CSRF_ENABLED)
        "SECRET_KEY": "browser-journeys",
        "DATABASE_URL": "sqlite:///" + str(folder / "live.sqlite"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # The limiter stays on, with room for the journeys' many log-ins from 127.0.0.1.
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }
    app = create_app(config)
    assert app.config.get("WTF_CSRF_ENABLED", True), "the journeys run with CSRF on"
    with app.app_context():
        upgrade(revision="heads")
        from liaison import demo

        demo.load()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.app = app
    yield server
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def tr():
    return Translator()


@pytest.fixture
def journey(browser, live_server, request, tr):
    """``journey("volunteer", phone=True, locale="en")`` opens a new browser context and page."""
    name = re.sub(r"[^A-Za-z0-9_]+", "-", request.node.name).strip("-")
    shutil.rmtree(SCREENSHOTS / name, ignore_errors=True)
    opened: list[Journey] = []

    def _open(who: str = "user", *, phone: bool = False, locale: str = "en") -> Journey:
        j = Journey(browser, live_server.url, folder=SCREENSHOTS / name, label=who, phone=phone,
                    viewport=PHONE if phone else DESKTOP, locale=locale, tr=tr)
        opened.append(j)
        return j

    yield _open
    problems = []
    for j in opened:
        problems.extend(j.problems)
        try:
            j.screenshot("last")  # where each person ended up: the first thing to look at after a failure
        finally:
            j.close()
    assert not problems, "browser problems:\n" + "\n".join(problems)
