"""Small helpers shared by test modules."""
from __future__ import annotations

from sqlalchemy import event, inspect, select

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


def selects_sent(run, kinds: tuple[str, ...] = ("SELECT",)) -> list[tuple[str, tuple]]:
    """The statements starting with one of ``kinds`` (and their parameters) ``run()`` sends, in order."""
    sent = []

    def capture(_conn, _cursor, sql, params, *_args):
        sent.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return [(sql, params) for sql, params in sent if sql.lstrip().upper().startswith(kinds)]


def query_plan(sql: str, params) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN of one statement, a line per step."""
    return [row[3] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
