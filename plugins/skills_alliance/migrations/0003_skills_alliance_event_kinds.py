"""skills_alliance: timeline kinds for corrections (details edited, milestones and documents changed or removed)

Revision ID: 0003_skills_alliance
Revises: 0002_skills_alliance
Create Date: 2026-11-27 09:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003_skills_alliance'
down_revision = '0002_skills_alliance'
branch_labels = None
depends_on = None

OLD = ('created', 'status', 'document_added', 'milestone_added', 'milestone_done')
NEW = OLD + ('edited', 'milestone_edited', 'milestone_removed', 'document_edited', 'document_removed')


def _kinds(values) -> str:
    return "kind IN ({})".format(", ".join(f"'{value}'" for value in values))


def _replace(values) -> None:
    with op.batch_alter_table('skills_alliance_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_skills_alliance_events_kind'), type_='check')
        batch_op.create_check_constraint('kind', _kinds(values))


def upgrade():
    _replace(NEW)


def downgrade():
    op.execute("DELETE FROM skills_alliance_events WHERE " + _kinds(NEW[len(OLD):]))
    _replace(OLD)
