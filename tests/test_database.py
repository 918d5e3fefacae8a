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
