"""Static files through WhiteNoise (fingerprinted, precompressed, cached for a year) and
compressed HTML: light pages for phones on far-away links."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from liaison import create_app
from liaison.static_files import build_static, fingerprinted_name

from .conftest import _test_config

STATIC = Path(__file__).resolve().parent.parent / "liaison" / "static"
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


def test_pages_link_fingerprinted_static_files(client):
    assets = _assets(client.get("/login").get_data(as_text=True))
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), url


def test_fingerprinted_file_is_immutable_for_a_year(client):
    for url in _assets(client.get("/login").get_data(as_text=True)):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_fingerprinted_file_has_the_original_content(client, app):
    url = next(a for a in _assets(client.get("/login").get_data(as_text=True)) if "/app." in a and a.endswith(".css"))
    assert client.get(url).data == (STATIC / "app.css").read_bytes()


def test_plain_name_still_served_with_a_short_cache(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    assert response.data == (STATIC / "app.css").read_bytes()


@pytest.mark.parametrize("encoding, decompress", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_static_files_served_compressed(client, encoding, decompress):
    url = next(a for a in _assets(client.get("/login").get_data(as_text=True)) if "bootstrap.min" in a)
    response = client.get(url, headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    original = (STATIC / "vendor/bootstrap/bootstrap.min.css").read_bytes()
    assert len(response.data) < len(original) / 3
    assert decompress(response.data) == original


def test_static_file_uncompressed_without_accept_encoding(client):
    url = next(a for a in _assets(client.get("/login").get_data(as_text=True)) if "bootstrap.min" in a)
    response = client.get(url)
    assert "Content-Encoding" not in response.headers
    assert response.data == (STATIC / "vendor/bootstrap/bootstrap.min.css").read_bytes()


@pytest.mark.parametrize("encoding, decompress", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_html_compressed_when_accepted(client, encoding, decompress):
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers
    response = client.get("/login", headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert int(response.headers["Content-Length"]) == len(response.data) < len(plain.data)
    html = decompress(response.data).decode()
    assert "<form" in html and "Content-Security-Policy" in response.headers


def test_html_compressed_for_logged_in_pages(client, login):
    login("hq")
    response = client.get("/review/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "<table" in gzip.decompress(response.data).decode()


def test_small_and_non_html_responses_left_alone(client):
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers  # a few bytes of JSON: not worth it


def test_compression_can_be_switched_off(database_url):
    app = create_app(_test_config(database_url, COMPRESS_RESPONSES=False))
    response = app.test_client().get("/login", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


def test_no_cdn_or_external_url_in_pages_or_static_files(client):
    html = client.get("/login").get_data(as_text=True)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    for path in STATIC.rglob("*"):
        if path.suffix in (".css", ".js", ".html"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not re.search(r"(?:src|href)=[\"'](?:https?:)?//|@import\s+url\(\s*[\"']?https?:", text), path
    templates = Path(__file__).resolve().parent.parent
    for path in list(templates.glob("liaison/templates/**/*.html")) + list(templates.glob("plugins/**/*.html")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'(?:src|href)="(?:https?:)?//', text), path


def test_fingerprinted_name():
    assert fingerprinted_name("vendor/x.min.css", "0123456789ab") == "vendor/x.min.0123456789ab.css"
    assert fingerprinted_name("LICENSE", "0123456789ab") == "LICENSE.0123456789ab"


def test_build_is_reused_and_follows_the_content(tmp_path):
    source, cache = tmp_path / "static", tmp_path / "cache"
    source.mkdir()
    (source / "site.css").write_text("body { color: red; }\n" * 100)
    first, manifest = build_static(source, cache)
    hashed = manifest["site.css"]
    assert (first / hashed).read_text() == (source / "site.css").read_text()
    assert (first / (hashed + ".gz")).exists() and (first / (hashed + ".br")).exists()
    assert build_static(source, cache) == (first, manifest)  # unchanged content: the same build
    (source / "site.css").write_text("body { color: blue; }\n" * 100)
    second, changed = build_static(source, cache)
    assert second != first and changed["site.css"] != hashed


def test_query_count_header_only_when_enabled(client, database_url):
    assert "X-Query-Count" not in client.get("/login").headers
    app = create_app(_test_config(database_url, QUERY_COUNT_HEADER=True))
    response = app.test_client().get("/healthz")
    assert int(response.headers["X-Query-Count"]) >= 1  # the health check asks the database


def test_static_files_carry_the_security_headers(client):
    response = client.get("/static/app.css")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_builds_of_old_content_are_pruned_after_a_day(tmp_path):
    import os
    import time

    source, cache = tmp_path / "static", tmp_path / "cache"
    source.mkdir()
    (source / "site.css").write_text("a {}\n")
    first, _ = build_static(source, cache)
    (source / "site.css").write_text("b {}\n")
    second, _ = build_static(source, cache)
    assert first.exists()  # a server started a minute ago may still read it
    os.utime(first, (time.time() - 2 * 86400,) * 2)
    (source / "site.css").write_text("c {}\n")
    third, _ = build_static(source, cache)
    assert not first.exists() and second.exists() and third.exists()
