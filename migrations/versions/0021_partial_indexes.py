"""partial indexes: the leads that came from a demand or an event

Revision ID: 0021_partial_indexes
Revises: 0020_reports_deadlines
Create Date: 2026-11-27 07:00:00

Few leads have a ``source_demand_id`` or a ``source_event_id``; the report's figures about them
ask for ``… IS NOT NULL``, which the plain single-column indexes do not serve (their statistics
show one value, NULL, for almost every row, so the planner scans the table). These partial
indexes hold only those leads, with the columns the figures group by.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_partial_indexes'
down_revision = '0020_reports_deadlines'
branch_labels = None
depends_on = None


def upgrade():
    from_demand = sa.text('source_demand_id IS NOT NULL')
    from_event = sa.text('source_event_id IS NOT NULL')
    op.create_index('ix_leads_from_demand', 'leads', ['source_demand_id', 'station_id', 'created_at'], unique=False,
                    sqlite_where=from_demand, postgresql_where=from_demand)
    op.create_index('ix_leads_from_event', 'leads', ['source_event_id', 'station_id', 'status'], unique=False,
                    sqlite_where=from_event, postgresql_where=from_event)


def downgrade():
    op.drop_index('ix_leads_from_event', table_name='leads')
    op.drop_index('ix_leads_from_demand', table_name='leads')
