"""Small helpers shared by test modules."""
from __future__ import annotations

from sqlalchemy import inspect, select

from liaison.models import db


def snapshot(app) -> dict[str, list]:
    """Every row of every table: "the database is unchanged" means two snapshots are equal."""
    with app.app_context():
        try:
            existing = set(inspect(db.engine).get_table_names())  # plugin models may be known but not migrated
            return {table.name: sorted(tuple(repr(v) for v in row) for row in db.session.execute(select(table)))
                    for table in db.metadata.sorted_tables if table.name in existing}
        finally:
            db.session.remove()
