"""skills_alliance: index serving the agreements list's order (most recently updated first)

Revision ID: 0002_skills_alliance
Revises: 0001_skills_alliance
Create Date: 2026-11-27 06:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002_skills_alliance'
down_revision = '0001_skills_alliance'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('skills_alliance_agreements', schema=None) as batch_op:
        batch_op.create_index('ix_skills_alliance_agreements_updated', ['updated_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('skills_alliance_agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_skills_alliance_agreements_updated')
