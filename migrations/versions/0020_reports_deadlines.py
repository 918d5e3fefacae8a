"""reports and deadlines: review deadlines set by HQ per status; the index of the report's
review-deadline figures

Revision ID: 0020_reports_deadlines
Revises: 0019_api
Create Date: 2026-11-27 03:10:00

``lead_deadlines`` (``liaison.models.deadlines``): a row per lead status HQ gave a deadline in
the app. ``ix_lead_events_status_timeline`` (kind, lead_id, created_at, id, to_status) covers the
window over the status events that finds when each stay in a status ended.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_reports_deadlines'
down_revision = '0019_api'
branch_labels = None
depends_on = None

STATUSES = ('draft', 'submitted', 'under_review', 'needs_info', 'accepted', 'referred', 'landed', 'rejected',
            'withdrawn', 'closed_lost')


def upgrade():
    op.create_table('lead_deadlines',
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('reminder_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES)), name=op.f('ck_lead_deadlines_status')),
    sa.CheckConstraint('days >= 0 AND days <= 365', name=op.f('ck_lead_deadlines_days')),
    sa.CheckConstraint('reminder_days >= 0 AND reminder_days <= days', name=op.f('ck_lead_deadlines_reminder_days')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_lead_deadlines_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('status', name=op.f('pk_lead_deadlines'))
    )
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.create_index('ix_lead_events_status_timeline', ['kind', 'lead_id', 'created_at', 'id', 'to_status'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_events_status_timeline')
    op.drop_table('lead_deadlines')
