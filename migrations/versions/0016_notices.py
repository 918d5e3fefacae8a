"""notices: policy notices to stations with targets, attachments and receipts; volunteer appointments

Revision ID: 0016_notices
Revises: 0015_assignment
Create Date: 2026-11-27 01:00:00

New tables only (``liaison.notices``, ``liaison.appointments``).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_notices'
down_revision = '0015_assignment'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('policy_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_zh', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_until', sa.Date(), nullable=True),
    sa.Column('to_all', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_policy_notices_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_notices')),
    sa.UniqueConstraint('slug', name=op.f('uq_policy_notices_slug'))
    )
    with op.batch_alter_table('policy_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_notices_created_at'), ['created_at'], unique=False)

    op.create_table('notice_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('host_kind', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['policy_notices.id'], name=op.f('fk_notice_targets_notice_id_policy_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_notice_targets_region_id_regions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_notice_targets_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_targets'))
    )
    with op.batch_alter_table('notice_targets', schema=None) as batch_op:
        batch_op.create_index('ix_notice_targets_notice', ['notice_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_targets_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_targets_station_id'), ['station_id'], unique=False)

    op.create_table('notice_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['policy_notices.id'], name=op.f('fk_notice_attachments_notice_id_policy_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_attachments'))
    )
    with op.batch_alter_table('notice_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_attachments_notice_id'), ['notice_id'], unique=False)

    op.create_table('notice_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['policy_notices.id'], name=op.f('fk_notice_receipts_notice_id_policy_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_receipts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_receipts')),
    sa.UniqueConstraint('notice_id', 'user_id', name='uq_notice_receipts_notice_user')
    )
    with op.batch_alter_table('notice_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_receipts_user_id'), ['user_id'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('appointed_on', sa.Date(), nullable=False),
    sa.Column('term_start', sa.Date(), nullable=False),
    sa.Column('term_end', sa.Date(), nullable=False),
    sa.Column('appointing_body', sa.String(length=200), nullable=False),
    sa.Column('letter_number', sa.String(length=80), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_appointments_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_appointments_station_id_stations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_appointments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_station_id'), ['station_id'], unique=False)
        batch_op.create_index('ix_appointments_term_end', ['term_end'], unique=False)
        batch_op.create_index('ix_appointments_user_station', ['user_id', 'station_id', 'term_end'], unique=False)


def downgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_user_station')
        batch_op.drop_index('ix_appointments_term_end')
        batch_op.drop_index(batch_op.f('ix_appointments_station_id'))
    op.drop_table('appointments')
    with op.batch_alter_table('notice_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_receipts_user_id'))
    op.drop_table('notice_receipts')
    with op.batch_alter_table('notice_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_attachments_notice_id'))
    op.drop_table('notice_attachments')
    with op.batch_alter_table('notice_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_targets_station_id'))
        batch_op.drop_index(batch_op.f('ix_notice_targets_region_id'))
        batch_op.drop_index('ix_notice_targets_notice')
    op.drop_table('notice_targets')
    with op.batch_alter_table('policy_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_notices_created_at'))
    op.drop_table('policy_notices')
