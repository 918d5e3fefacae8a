"""student_service: the fields a programme suits as rows

Revision ID: 0002_student_service
Revises: 0001_student_service
Create Date: 2026-11-27 10:30:00

A programme's fields were a ", "-joined string (``student_service_programmes.fields``) split
when matching students; they become rows of ``student_service_programme_fields`` (in the order
they were typed), carried over here on SQLite and PostgreSQL alike (split on ``,，、;；``,
repeats ignoring case dropped), and the old column is dropped. Downgrading joins the rows back
with ", ".
"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_student_service'
down_revision = '0001_student_service'
branch_labels = None
depends_on = None

TABLE = 'student_service_programme_fields'
CHUNK = 5000


def _items(text):
    items = {}
    for part in re.split(r"[,，、;；]", text or ""):
        item = part.strip()[:120]
        if item and item.casefold() not in items:
            items[item.casefold()] = item
    return list(items.values())


def upgrade():
    op.create_table(TABLE,
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['student_service_programmes.id'], name=op.f('fk_student_service_programme_fields_programme_id_student_service_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'field', name=op.f('pk_student_service_programme_fields'))
    )

    connection = op.get_bind()
    programmes = sa.table('student_service_programmes', sa.column('id'), sa.column('fields'))
    target = sa.table(TABLE, sa.column('programme_id'), sa.column('field'), sa.column('position'))
    last = 0
    while True:
        chunk = connection.execute(
            sa.select(programmes.c.id, programmes.c.fields)
            .where(programmes.c.id > last, programmes.c.fields.isnot(None))
            .order_by(programmes.c.id).limit(CHUNK)).all()
        if not chunk:
            break
        last = chunk[-1][0]
        rows = [{'programme_id': row.id, 'field': value, 'position': position}
                for row in chunk for position, value in enumerate(_items(row.fields))]
        if rows:
            connection.execute(target.insert(), rows)

    with op.batch_alter_table('student_service_programmes', schema=None) as batch_op:
        batch_op.drop_column('fields')


def downgrade():
    with op.batch_alter_table('student_service_programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fields', sa.String(length=300), nullable=True))

    connection = op.get_bind()
    programmes = sa.table('student_service_programmes', sa.column('id'), sa.column('fields'))
    source = sa.table(TABLE, sa.column('programme_id'), sa.column('field'), sa.column('position'))
    joined = {}
    for programme_id, value in connection.execute(
            sa.select(source.c.programme_id, source.c.field).order_by(source.c.programme_id, source.c.position)):
        joined.setdefault(programme_id, []).append(value)
    updates = [{'_id': programme_id, '_value': ", ".join(values)[:300]} for programme_id, values in joined.items()]
    for start in range(0, len(updates), CHUNK):
        connection.execute(programmes.update().where(programmes.c.id == sa.bindparam('_id'))
                           .values(fields=sa.bindparam('_value')), updates[start:start + CHUNK])
    op.drop_table(TABLE)
