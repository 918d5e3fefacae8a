"""names per language for stations and regions

Revision ID: 0005_names
Revises: 0004_sessions
Create Date: 2026-11-26 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_names'
down_revision = '0004_sessions'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
