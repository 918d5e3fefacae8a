"""SQLite writers of one process queue in Python for the write lock, fairly and promptly, rather
than polling in SQLite's busy handler (whose growing sleeps starve a waiting writer)."""
import threading
import time

from sqlalchemy import create_engine, event

from liaison.database import configure_sqlite


def _engine(tmp_path, busy_timeout_ms):
    engine = create_engine(f"sqlite:///{tmp_path / 'writers.sqlite'}")
    configure_sqlite(engine, busy_timeout_ms)
    return engine


def test_a_second_writer_waits_for_the_first_before_asking_sqlite(tmp_path):
    engine = _engine(tmp_path, 10_000)
    begun = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args):
        if statement == "BEGIN IMMEDIATE":
            begun.append(threading.current_thread().name)

    def second_writer():
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (2)")

    main = threading.current_thread().name
    with engine.connect() as first:
        first.begin()
        first.exec_driver_sql("CREATE TABLE t (x)")
        thread = threading.Thread(target=second_writer, name="second-writer")
        thread.start()
        time.sleep(0.3)
        # Not yet in SQLite's busy handler: queued on the process's writer lock.
        assert begun == [main]
        first.commit()
    thread.join(5)
    assert not thread.is_alive()
    assert begun == [main, "second-writer"]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT x FROM t").scalars().all() == [2]


def test_a_writer_that_rolls_back_or_is_closed_lets_the_next_one_in(tmp_path):
    engine = _engine(tmp_path, 60_000)  # a writer lock left held would stall the last block a minute
    with engine.connect() as connection:
        connection.begin()
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.rollback()
    with engine.connect() as connection:  # closed with its write transaction still open
        connection.begin()
        connection.exec_driver_sql("CREATE TABLE t (x)")
    start = time.monotonic()
    for _ in range(3):
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
    assert time.monotonic() - start < 5


def test_an_invalidated_writer_lets_the_next_one_in(tmp_path):
    engine = _engine(tmp_path, 60_000)
    with engine.connect() as connection:
        connection.begin()
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.invalidate()  # as after a lost connection
    start = time.monotonic()
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
    assert time.monotonic() - start < 5


def _on_sqlite(app) -> bool:
    from liaison.models import db

    with app.app_context():
        return db.engine.dialect.name == "sqlite"


def test_a_page_that_logs_what_it_showed_survives_another_connections_write(app, login, world, monkeypatch):
    """A GET reads in a deferred transaction; SQLite refuses at once ("database is locked") to turn
    it into a write once another connection has committed since it read. The contact page logs
    the view after it rendered: ``database.prepare_write`` ends the read first, so the write waits
    its turn instead of failing the page (on PostgreSQL there is nothing to end)."""
    from sqlalchemy import func, select, text

    from liaison.models import AccessLogEntry, db
    from liaison.privacy import masking

    if not _on_sqlite(app):
        return  # the failure is SQLite's; PostgreSQL's MVCC has no read-to-write upgrade
    original = masking.log_access

    def after_a_write_elsewhere(*args, **kwargs):
        with db.engine.connect() as other:  # another connection (another worker, the job worker)
            other.execute(text("UPDATE stations SET updated_at = datetime('now')"))
            other.commit()
        return original(*args, **kwargs)

    monkeypatch.setattr(masking, "log_access", after_a_write_elsewhere)
    client = login("vol_hanoi")
    assert client.get(f"/contacts/{world.contacts['hanoi']}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)) == 1


def test_an_export_records_itself_beside_another_connections_write(app, login, world, monkeypatch):
    from sqlalchemy import func, select, text

    from liaison.exports import services
    from liaison.models import ExportRecord, db

    if not _on_sqlite(app):
        return
    original = services._new_record

    def after_a_write_elsewhere(*args, **kwargs):
        with db.engine.connect() as other:
            other.execute(text("UPDATE stations SET updated_at = datetime('now')"))
            other.commit()
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_new_record", after_a_write_elsewhere)
    response = login("hq").get("/exports/leads.csv")
    assert response.status_code == 200
    response.get_data()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExportRecord)) == 1
