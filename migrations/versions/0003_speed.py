"""indexes for every list sort and filter, indexed free-text search

Revision ID: 0003_speed
Revises: 0002_sort_keys
Create Date: 2026-11-26 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_speed'
down_revision = '0002_sort_keys'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
