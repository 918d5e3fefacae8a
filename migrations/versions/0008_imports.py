"""imports with their rows' before-images; contacts' tags and languages as rows

Revision ID: 0008_imports
Revises: 0007_privacy
Create Date: 2026-11-27 00:00:00

Contacts' tags and languages were ", "-joined strings matched with LIKE; they become rows of
``contact_tags`` and ``contact_languages`` (in the order they were typed), carried over here on
SQLite and PostgreSQL alike, and the old columns are dropped. On SQLite dropping a column copies
the table (batch mode), which drops its triggers: the full-text triggers of ``contacts_fts`` are
made again afterwards.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_imports'
down_revision = '0007_privacy'
branch_labels = None
depends_on = None

LISTS = (("tags", "contact_tags", "tag"), ("languages", "contact_languages", "language"))
CHUNK = 5000


def _items(text):
    items = {}
    for part in (text or "").split(","):
        item = part.strip()[:100]
        if item and item.casefold() not in items:
            items[item.casefold()] = item
    return list(items.values())


def _contacts_fts_triggers():
    fts = "contacts_fts"
    delete = f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
    return {
        f"{fts}_ai": f"CREATE TRIGGER {fts}_ai AFTER INSERT ON contacts BEGIN {insert} END",
        f"{fts}_ad": f"CREATE TRIGGER {fts}_ad AFTER DELETE ON contacts BEGIN {delete} END",
        f"{fts}_au": f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON contacts BEGIN {delete} {insert} END",
    }


def _restore_sqlite_triggers():
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, ddl in _contacts_fts_triggers().items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(ddl)


def upgrade():
    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('committed_at', sa.DateTime(), nullable=True),
    sa.Column('reverted_at', sa.DateTime(), nullable=True),
    sa.Column('reverted_by_id', sa.Integer(), nullable=True),
    sa.Column('header', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=True),
    sa.Column('notices', sa.JSON(), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_imports_created_by_id_users')),
    sa.ForeignKeyConstraint(['reverted_by_id'], ['users.id'], name=op.f('fk_imports_reverted_by_id_users')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_imports_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.create_index('ix_imports_station_created', ['station_id', 'created_at'], unique=False)

    op.create_table('import_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_import_rows_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_rows_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rows'))
    )
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.create_index('ix_import_rows_import_row', ['import_id', 'row_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_rows_contact_id'), ['contact_id'], unique=False)

    for _column, table, item in LISTS:
        op.create_table(table,
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column(item, sa.String(length=100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f(f'fk_{table}_contact_id_contacts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('contact_id', item, name=op.f(f'pk_{table}'))
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_{item}', [item, 'contact_id'], unique=False)

    # Carry the joined strings over, a chunk of contacts at a time.
    connection = op.get_bind()
    contacts = sa.table("contacts", sa.column("id"), sa.column("tags"), sa.column("languages"))
    last = 0
    while True:
        chunk = connection.execute(
            sa.select(contacts.c.id, contacts.c.tags, contacts.c.languages)
            .where(contacts.c.id > last, sa.or_(contacts.c.tags.isnot(None), contacts.c.languages.isnot(None)))
            .order_by(contacts.c.id).limit(CHUNK)).all()
        if not chunk:
            break
        last = chunk[-1][0]
        for column, table, item in LISTS:
            target = sa.table(table, sa.column("contact_id"), sa.column(item), sa.column("position"))
            rows = [{"contact_id": row.id, item: value, "position": position}
                    for row in chunk for position, value in enumerate(_items(getattr(row, column)))]
            if rows:
                connection.execute(target.insert(), rows)

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('tags')
        batch_op.drop_column('languages')
    _restore_sqlite_triggers()


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.String(length=300), nullable=True))
    _restore_sqlite_triggers()

    connection = op.get_bind()
    contacts = sa.table("contacts", sa.column("id"), sa.column("tags"), sa.column("languages"))
    for column, table, item in LISTS:
        source = sa.table(table, sa.column("contact_id"), sa.column(item), sa.column("position"))
        joined = {}
        for contact_id, value in connection.execute(
                sa.select(source.c.contact_id, source.c[item]).order_by(source.c.contact_id, source.c.position)):
            joined.setdefault(contact_id, []).append(value)
        updates = [{"_id": contact_id, "_value": ", ".join(values)[:300 if column == "tags" else 200]}
                   for contact_id, values in joined.items()]
        for start in range(0, len(updates), CHUNK):
            connection.execute(contacts.update().where(contacts.c.id == sa.bindparam("_id"))
                               .values({column: sa.bindparam("_value")}), updates[start:start + CHUNK])
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_{item}')
        op.drop_table(table)

    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_rows_contact_id'))
        batch_op.drop_index('ix_import_rows_import_row')
    op.drop_table('import_rows')
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_index('ix_imports_station_created')
    op.drop_table('imports')
