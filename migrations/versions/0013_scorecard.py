"""scorecard: the yearly station scorecard's weights per year

Revision ID: 0013_scorecard
Revises: 0012_saved_views
Create Date: 2026-11-27 01:00:00

A new table (changes to it are audited in ``audit_log``) and two indexes on contacts: per
station and per creator by creation time (the scorecard, the volunteer's home page).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_scorecard'
down_revision = '0012_saved_views'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scorecard_weights',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_scorecard_weights_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_scorecard_weights'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_station_created', ['station_id', 'created_at'], unique=False)
        batch_op.create_index('ix_contacts_creator_created', ['created_by_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_creator_created')
        batch_op.drop_index('ix_contacts_station_created')
    op.drop_table('scorecard_weights')
