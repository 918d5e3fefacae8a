"""server-side session revocation and login throttling

Revision ID: 0004_sessions
Revises: 0003_speed
Create Date: 2026-11-26 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_sessions'
down_revision = '0003_speed'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
