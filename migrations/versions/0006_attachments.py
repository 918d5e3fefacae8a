"""files attached to leads

Revision ID: 0006_attachments
Revises: 0005_names
Create Date: 2026-11-26 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_attachments'
down_revision = '0005_names'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
