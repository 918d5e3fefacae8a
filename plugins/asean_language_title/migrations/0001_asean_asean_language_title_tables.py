"""asean_language_title tables

Revision ID: 0001_asean
Revises:
Create Date: 2026-11-23 04:07:09.361065

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_asean'
down_revision = None
branch_labels = ('asean_language_title',)
depends_on = '0001_core'


def upgrade():
    op.create_table('asean_language_title_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('practice_years', sa.Integer(), nullable=False),
    sa.Column('current_title', sa.String(length=20), nullable=True),
    sa.Column('current_title_since', sa.Date(), nullable=True),
    sa.Column('education', sa.String(length=300), nullable=True),
    sa.Column('credentials', sa.Text(), nullable=True),
    sa.Column('representative_works', sa.Text(), nullable=True),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('route_overridden', sa.Boolean(), nullable=False),
    sa.Column('route_reason', sa.Text(), nullable=True),
    sa.Column('certificate_number', sa.String(length=60), nullable=True),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('submission_token', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_asean_language_title_applications_contact_id_contacts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_asean_language_title_applications_created_by_id_users')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_asean_language_title_applications_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asean_language_title_applications')),
    sa.UniqueConstraint('submission_token', name=op.f('uq_asean_language_title_applications_submission_token'))
    )
    with op.batch_alter_table('asean_language_title_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asean_language_title_applications_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_asean_language_title_applications_station_status', ['station_id', 'status'], unique=False)
        batch_op.create_index('ix_asean_language_title_applications_status_decided', ['status', 'decision_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_asean_language_title_applications_submitted_at'), ['submitted_at'], unique=False)

    op.create_table('asean_language_title_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('from_value', sa.String(length=20), nullable=True),
    sa.Column('to_value', sa.String(length=20), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_asean_language_title_events_actor_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['asean_language_title_applications.id'], name=op.f('fk_asean_language_title_events_application_id_asean_language_title_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asean_language_title_events'))
    )
    with op.batch_alter_table('asean_language_title_events', schema=None) as batch_op:
        batch_op.create_index('ix_asean_language_title_events_application_created', ['application_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('asean_language_title_events', schema=None) as batch_op:
        batch_op.drop_index('ix_asean_language_title_events_application_created')
    op.drop_table('asean_language_title_events')
    with op.batch_alter_table('asean_language_title_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asean_language_title_applications_submitted_at'))
        batch_op.drop_index('ix_asean_language_title_applications_status_decided')
        batch_op.drop_index('ix_asean_language_title_applications_station_status')
        batch_op.drop_index(batch_op.f('ix_asean_language_title_applications_contact_id'))
    op.drop_table('asean_language_title_applications')
