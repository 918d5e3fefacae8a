"""The REST API at ``/api/v1``: personal access tokens, the same services and scope as the pages.

``init_app`` (called by ``create_app``) wires the API: flask-smorest generates the OpenAPI 3
document from the views' marshmallow schemas. Kept light: ``liaison.models`` imports
``liaison.api.models`` and must not pull the views in.
"""
from __future__ import annotations


def init_app(app) -> None:
    from .setup import init_app as _init

    _init(app)
