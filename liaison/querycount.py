"""``X-Query-Count``: the number of SQL statements a request ran, for the benchmark.

Off unless ``QUERY_COUNT_HEADER`` is set (``LIAISON_QUERY_COUNT_HEADER=true``); ``bench/run.py``
switches it on for the servers it starts. Never enable it on a public server: it tells a client
how much work a page costs.
"""
from __future__ import annotations

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

_listening = False


def _count(*_args, **_kwargs) -> None:
    if has_request_context():
        g._query_count = g.get("_query_count", 0) + 1


def init_app(app: Flask) -> None:
    global _listening
    if not _listening:  # one listener per process, on every engine; counts only inside requests
        event.listen(Engine, "before_cursor_execute", _count)
        _listening = True

    @app.after_request
    def _header(response: Response) -> Response:
        response.headers["X-Query-Count"] = str(g.get("_query_count", 0))
        return response
