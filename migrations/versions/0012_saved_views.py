"""saved views; pinyin keys for the global search

Revision ID: 0012_saved_views
Revises: 0011_notifications
Create Date: 2026-11-27 01:00:00

A new table ``saved_views`` (a list's query string saved by name, per user). The contacts'
search keys (``contact_search_keys``) gain the pinyin and initials keys of
``liaison.search.pinyin_keys``: recomputed here for every contact, in batches.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_saved_views'
down_revision = '0011_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('shared', sa.String(length=10), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_saved_views_region_id_regions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_views_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
    sa.UniqueConstraint('user_id', 'endpoint', 'name', name='uq_saved_views_user_endpoint_name')
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index('ix_saved_views_endpoint_shared', ['endpoint', 'shared', 'region_id'], unique=False)
    _rebuild_search_keys()


def _rebuild_search_keys(batch=1000):
    from liaison.search import contact_search_keys

    bind = op.get_bind()
    contacts = sa.table('contacts', sa.column('id'), sa.column('name'), sa.column('name_zh'),
                        sa.column('name_original'), sa.column('organisation'))
    keys = sa.table('contact_search_keys', sa.column('contact_id'), sa.column('key'))
    last = 0
    while True:
        rows = bind.execute(sa.select(contacts).where(contacts.c.id > last).order_by(contacts.c.id).limit(batch)).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        bind.execute(keys.delete().where(keys.c.contact_id.in_(ids)))
        values = [{"contact_id": row.id, "key": key}
                  for row in rows for key in contact_search_keys(row.name, row.name_zh, row.name_original, row.organisation)]
        if values:
            bind.execute(keys.insert(), values)
        last = ids[-1]


def downgrade():
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_views_endpoint_shared')
    op.drop_table('saved_views')
