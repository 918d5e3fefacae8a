"""assignment: HQ's ordered assignment rules and their reviewer groups

Revision ID: 0015_assignment
Revises: 0014_exports
Create Date: 2026-11-27 01:00:00

New tables (``liaison.assignment``) and the index of the review queue's overdue filter,
``leads (status, status_changed_at)``.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_assignment'
down_revision = '0014_exports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignment_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('criterion', sa.String(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=30), nullable=True),
    sa.Column('plugin', sa.String(length=80), nullable=True),
    sa.Column('strategy', sa.String(length=20), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('last_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_assignment_rules_region_id_regions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_assignment_rules_station_id_stations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_assignment_rules_reviewer_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['last_user_id'], ['users.id'], name=op.f('fk_assignment_rules_last_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assignment_rules_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_rules'))
    )
    with op.batch_alter_table('assignment_rules', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_rules_active_position', ['active', 'position'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_status_changed', ['status', 'status_changed_at'], unique=False)

    op.create_table('assignment_rule_members',
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['assignment_rules.id'], name=op.f('fk_assignment_rule_members_rule_id_assignment_rules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignment_rule_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'user_id', name=op.f('pk_assignment_rule_members'))
    )


def downgrade():
    op.drop_table('assignment_rule_members')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_status_changed')
    with op.batch_alter_table('assignment_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_rules_active_position')
    op.drop_table('assignment_rules')
