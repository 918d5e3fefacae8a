"""Static files and response compression: light pages for phones on slow, far-away links.

- Every file under ``liaison/static`` (and each blueprint's static folder, e.g. a plugin's) gets a
  fingerprinted copy named after its content (``app.css`` → ``app.1a2b3c4d5e6f.css``) and
  precompressed gzip and brotli variants. They are built once per content into
  ``instance/static-cache/`` (``STATIC_CACHE_DIR``) at start-up and reused while the files stay the
  same, so a worker starts in milliseconds.
- ``url_for('static', filename='app.css')`` emits the fingerprinted URL (a ``url_defaults``
  callback reads the manifest), so templates keep writing the plain name.
- WhiteNoise serves them in front of Flask, under gunicorn and ``flask run`` alike: the
  compressed variant the browser accepts, and ``Cache-Control: public, max-age=31536000,
  immutable`` on fingerprinted names — a repeat visit fetches no static file at all. Plain names
  still work with a short cache (bookmarks, old pages).
- HTML (and JSON) responses are compressed (brotli or gzip) when the client accepts it.
  Streamed and file responses are left alone. Pages that reflect input and carry a CSRF token
  are the BREACH pattern; the session and CSRF cookies are ``SameSite=Lax``, so a third-party
  site cannot make the browser send the many credentialed requests that attack needs.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from flask import Flask, Response, request

try:  # an optional extra of whitenoise: brotli variants are skipped without it
    import brotli
except ImportError:  # pragma: no cover - brotli is installed with whitenoise[brotli]
    brotli = None

ONE_YEAR = 365 * 24 * 3600
FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
COMPRESSIBLE_FILES = (".css", ".js", ".svg", ".txt", ".json", ".map", ".html", ".xml", ".ico")
COMPRESSIBLE_RESPONSES = {"text/html", "application/json", "text/plain"}
MIN_COMPRESS_BYTES = 512


# -- fingerprinted, precompressed static files ------------------------------------------------

def fingerprinted_name(relative: str, digest: str) -> str:
    """``vendor/x.min.css`` with digest ``abc…`` → ``vendor/x.min.abc….css``."""
    head, dot, ext = relative.rpartition(".")
    if not dot or "/" in ext:
        return f"{relative}.{digest}"
    return f"{head}.{digest}.{ext}"


def _source_files(folder: Path) -> list[tuple[str, Path]]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if name.startswith(".") or name.endswith((".gz", ".br")):
                continue
            path = Path(root) / name
            files.append((path.relative_to(folder).as_posix(), path))
    return files


def build_static(folder: str | os.PathLike, cache_dir: str | os.PathLike) -> tuple[Path, dict[str, str]]:
    """Fingerprint and compress every file of ``folder`` into a build directory under
    ``cache_dir`` named after the folder's content; returns (build directory, manifest)."""
    folder, cache_dir = Path(folder), Path(cache_dir)
    manifest: dict[str, str] = {}
    contents: list[tuple[str, Path, str]] = []
    overall = hashlib.sha256()
    for relative, path in _source_files(folder):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        manifest[relative] = fingerprinted_name(relative, digest)
        contents.append((relative, path, digest))
        overall.update(f"{relative}\0{digest}\0".encode())
    build = cache_dir / overall.hexdigest()[:16]
    if (build / ".complete").exists():
        return build, manifest
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    try:
        for relative, path, _ in contents:
            for name in (relative, manifest[relative]):
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                if name.lower().endswith(COMPRESSIBLE_FILES):
                    _write_compressed(target)
        (staging / ".complete").write_text("")
        try:
            os.replace(staging, build)  # atomic; another worker may have won the race
        except OSError:
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune(cache_dir, keep=build)
    return build, manifest


def _prune(cache_dir: Path, keep: Path, age: float = 86400) -> None:
    """Drop builds of older content after a day (a server still running may serve from one)."""
    import time

    for old in cache_dir.iterdir():
        try:
            if old != keep and old.is_dir() and time.time() - old.stat().st_mtime > age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


def _write_compressed(path: Path) -> None:
    data = path.read_bytes()
    variants = [(".gz", gzip.compress(data, compresslevel=9, mtime=0))]
    if brotli is not None:
        variants.append((".br", brotli.compress(data)))
    for suffix, compressed in variants:
        if len(compressed) < len(data) * 0.95:  # the same rule as WhiteNoise's compressor
            Path(str(path) + suffix).write_bytes(compressed)


def _static_sources(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, folder, URL prefix) of the app's and every blueprint's static files."""
    sources = []
    if app.has_static_folder:
        sources.append(("static", app.static_folder, app.static_url_path))
    for name, blueprint in app.blueprints.items():
        if blueprint.has_static_folder:
            prefix = (blueprint.url_prefix or "").rstrip("/") + (blueprint.static_url_path or "")
            sources.append((f"{name}.static", blueprint.static_folder, prefix))
    return [s for s in sources if s[1] and os.path.isdir(s[1])]


def init_static(app: Flask) -> None:
    """Build the manifests and put WhiteNoise in front of the app (after the blueprints)."""
    from whitenoise import WhiteNoise

    class _StaticFiles(WhiteNoise):
        def add_cache_headers(self, headers, path, url):
            if FINGERPRINTED.search(url):
                headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
            else:
                headers["Cache-Control"] = f"public, max-age={self.max_age}"

    extra_headers = _security_headers(app)

    def _static_headers(headers, path: str, url: str) -> None:
        for name, value in extra_headers:
            headers[name] = value

    cache_dir = Path(app.config.get("STATIC_CACHE_DIR") or os.path.join(app.instance_path, "static-cache"))
    manifests: dict[str, dict[str, str]] = {}
    server = _StaticFiles(app.wsgi_app, max_age=app.config.get("STATIC_MAX_AGE", 3600),
                          allow_all_origins=False,
                          add_headers_function=_static_headers)
    for endpoint, folder, prefix in _static_sources(app):
        build, manifest = build_static(folder, cache_dir / endpoint.replace(".", "-"))
        manifests[endpoint] = manifest
        server.add_files(str(build), prefix=prefix.strip("/") + "/")
    app.extensions["static_manifests"] = manifests
    app.wsgi_app = server

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        manifest = manifests.get(endpoint)
        if manifest and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])


def _security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers liaison.security gives every Flask response, for WhiteNoise's responses too."""
    from . import security

    probe = app.response_class(b"", mimetype="text/css")
    security.set_security_headers(probe)
    if app.config["ENV_NAME"] == "production":
        security._strict_transport(probe)
    skip = {"content-type", "content-length", "cache-control"}
    return [(name, value) for name, value in probe.headers.items() if name.lower() not in skip]


# -- compressed HTML --------------------------------------------------------------------------

def init_compression(app: Flask) -> None:
    """Register first so it runs after every other after_request function."""
    if app.config.get("COMPRESS_RESPONSES", True):
        app.after_request(compress_response)


def compress_response(response: Response) -> Response:
    if response.mimetype not in COMPRESSIBLE_RESPONSES:
        return response
    response.vary.add("Accept-Encoding")
    if (response.direct_passthrough or response.is_streamed or "Content-Encoding" in response.headers
            or response.status_code < 200 or response.status_code in (204, 206, 304)
            or request.method == "HEAD"):
        return response
    accepted = request.accept_encodings
    encoding = "br" if brotli is not None and accepted["br"] else ("gzip" if accepted["gzip"] else None)
    if encoding is None:
        return response
    data = response.get_data()
    if len(data) < MIN_COMPRESS_BYTES:
        return response
    # Fast settings: at page sizes both take well under a millisecond.
    compressed = brotli.compress(data, quality=4) if encoding == "br" else gzip.compress(data, compresslevel=6)
    response.set_data(compressed)
    response.headers["Content-Encoding"] = encoding
    return response
