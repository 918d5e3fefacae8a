"""events: events organised by HQ, regions or stations; invitations, registrations, check-in; leads' source event

Revision ID: 0017_events
Revises: 0016_notices
Create Date: 2026-11-27 03:00:00

New tables (``liaison.events``) and ``leads.source_event_id``.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_events'
down_revision = '0016_notices'
branch_labels = None
depends_on = None

EVENT_STATUSES = "'planned', 'registration_open', 'registration_closed', 'held', 'figures_recorded', 'cancelled'"
ATTENDANCE = "'invited', 'registered', 'declined', 'attended', 'no_show'"


def upgrade():
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('organiser', sa.String(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=True),
    sa.Column('online_link', sa.String(length=500), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('registration_opens_at', sa.DateTime(), nullable=True),
    sa.Column('registration_closes_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('outcome_notes', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(f"status IN ({EVENT_STATUSES})", name=op.f('ck_events_status')),
    sa.CheckConstraint("organiser IN ('hq', 'region', 'stations')", name=op.f('ck_events_organiser')),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_events_capacity')),
    sa.CheckConstraint('seats_taken >= 0', name=op.f('ck_events_seats_taken')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_events_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_events_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('slug', name=op.f('uq_events_slug'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_events_starts', ['starts_at', 'id'], unique=False)
        batch_op.create_index('ix_events_status_starts', ['status', 'starts_at', 'id'], unique=False)
        batch_op.create_index('ix_events_kind_starts', ['kind', 'starts_at'], unique=False)

    op.create_table('event_stations',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_stations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_event_stations_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'station_id', name=op.f('pk_event_stations'))
    )
    with op.batch_alter_table('event_stations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_stations_station_id'), ['station_id'], unique=False)

    op.create_table('event_target_fields',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_target_fields_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_event_target_fields'))
    )
    op.create_table('event_partners',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_partners_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_event_partners'))
    )
    op.create_table('event_photo_links',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_photo_links_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_event_photo_links'))
    )

    op.create_table('event_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_original', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_normalized', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('phone_e164', sa.String(length=20), nullable=True),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('field', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('sort_name', sa.String(length=200), nullable=False),
    sa.Column('consent_given_at', sa.DateTime(), nullable=True),
    sa.Column('consent_text_version', sa.String(length=40), nullable=True),
    sa.Column('invited_at', sa.DateTime(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('registered_at', sa.DateTime(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(f"status IN ({ATTENDANCE})", name=op.f('ck_event_registrations_status')),
    sa.CheckConstraint("source IN ('invitation', 'public', 'walk_in')", name=op.f('ck_event_registrations_source')),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['users.id'], name=op.f('fk_event_registrations_checked_in_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_event_registrations_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_registrations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_event_registrations_invited_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_registrations')),
    sa.UniqueConstraint('event_id', 'contact_id', name='uq_event_registrations_event_contact'),
    sa.UniqueConstraint('event_id', 'email_normalized', name='uq_event_registrations_event_email'),
    sa.UniqueConstraint('event_id', 'phone_e164', name='uq_event_registrations_event_phone'),
    sa.UniqueConstraint('token', name=op.f('uq_event_registrations_token'))
    )
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_registrations_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_event_registrations_event_status', ['event_id', 'status'], unique=False)
        batch_op.create_index('ix_event_registrations_event_sort', ['event_id', 'sort_name', 'id'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_event_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_leads_source_event_id'), ['source_event_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_leads_source_event_id_events'), 'events', ['source_event_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_leads_source_event_id_events'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_leads_source_event_id'))
        batch_op.drop_column('source_event_id')
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_event_registrations_event_sort')
        batch_op.drop_index('ix_event_registrations_event_status')
        batch_op.drop_index(batch_op.f('ix_event_registrations_contact_id'))
    op.drop_table('event_registrations')
    op.drop_table('event_photo_links')
    op.drop_table('event_partners')
    op.drop_table('event_target_fields')
    with op.batch_alter_table('event_stations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_stations_station_id'))
    op.drop_table('event_stations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_kind_starts')
        batch_op.drop_index('ix_events_status_starts')
        batch_op.drop_index('ix_events_starts')
        batch_op.drop_index(batch_op.f('ix_events_region_id'))
    op.drop_table('events')
