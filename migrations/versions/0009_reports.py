"""reports: closed report periods with their snapshots; an index for the times in the report

Revision ID: 0009_reports
Revises: 0008_imports
Create Date: 2026-11-27 00:00:00

``report_periods`` holds the periods HQ closed (a year, a quarter or a month) with the JSON
snapshot of their figures. ``ix_lead_events_to_status`` covers the report's "first time a lead
reached a status" (times to first review, acceptance and landing).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_reports'
down_revision = '0008_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_report_periods_closed_by_id_users')),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'], name=op.f('fk_report_periods_reopened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_periods')),
    sa.UniqueConstraint('key', name=op.f('uq_report_periods_key'))
    )
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.create_index('ix_lead_events_to_status', ['to_status', 'lead_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_events_to_status')
    op.drop_table('report_periods')
