"""demands: demands from organisations at home, their fields and target regions, matches with talent
and their timeline; the demand a lead came from; demands presented at events

Revision ID: 0018_demands
Revises: 0017_events
Create Date: 2026-11-27 03:10:00

New tables (``liaison.demands``) and ``leads.source_demand_id``. ``event_demands`` and
``demand_matches.event_id`` point at ``events`` (``0017_events``, hence ``depends_on``).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_demands'
down_revision = '0017_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('source_kind', sa.String(length=20), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('requirements', sa.Text(), nullable=False),
    sa.Column('salary_range', sa.String(length=100), nullable=True),
    sa.Column('funding', sa.String(length=200), nullable=True),
    sa.Column('policy_support', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('hire', 'project_cooperation', 'expert_consultation', 'joint_rnd', 'training', 'investment')", name=op.f('ck_demands_kind')),
    sa.CheckConstraint("source_kind IN ('enterprise', 'park', 'institution', 'department')", name=op.f('ck_demands_source_kind')),
    sa.CheckConstraint("status IN ('open', 'matching', 'matched', 'closed')", name=op.f('ck_demands_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_demands_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demands'))
    )
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.create_index('ix_demands_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_demands_kind_created', ['kind', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_demands_status_created', ['status', 'created_at', 'id'], unique=False)

    op.create_table('demand_fields',
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('folded', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_fields_demand_id_demands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('demand_id', 'field', name=op.f('pk_demand_fields'))
    )
    with op.batch_alter_table('demand_fields', schema=None) as batch_op:
        batch_op.create_index('ix_demand_fields_folded', ['folded', 'demand_id'], unique=False)

    op.create_table('demand_regions',
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_regions_demand_id_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_demand_regions_region_id_regions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('demand_id', 'region_id', name=op.f('pk_demand_regions'))
    )
    with op.batch_alter_table('demand_regions', schema=None) as batch_op:
        batch_op.create_index('ix_demand_regions_region', ['region_id', 'demand_id'], unique=False)

    op.create_table('demand_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('stage_changed_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("stage IN ('introduced', 'meeting_held', 'intent_signed', 'landed', 'dropped')", name=op.f('ck_demand_matches_stage')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_demand_matches_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_demand_matches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_matches_demand_id_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_demand_matches_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_demand_matches_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_demand_matches_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_matches')),
    sa.UniqueConstraint('demand_id', 'contact_id', name='uq_demand_matches_demand_contact')
    )
    with op.batch_alter_table('demand_matches', schema=None) as batch_op:
        batch_op.create_index('ix_demand_matches_contact', ['contact_id', 'demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demand_matches_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demand_matches_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_demand_matches_stage_changed', ['stage', 'stage_changed_at'], unique=False)
        batch_op.create_index('ix_demand_matches_station_stage', ['station_id', 'stage'], unique=False)

    op.create_table('demand_match_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('from_stage', sa.String(length=20), nullable=True),
    sa.Column('to_stage', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_demand_match_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['match_id'], ['demand_matches.id'], name=op.f('fk_demand_match_events_match_id_demand_matches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_match_events'))
    )
    with op.batch_alter_table('demand_match_events', schema=None) as batch_op:
        batch_op.create_index('ix_demand_match_events_match', ['match_id', 'id'], unique=False)

    op.create_table('event_demands',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_event_demands_demand_id_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_demands_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'demand_id', name=op.f('pk_event_demands'))
    )
    with op.batch_alter_table('event_demands', schema=None) as batch_op:
        batch_op.create_index('ix_event_demands_demand', ['demand_id', 'event_id'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_demand_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_leads_source_demand_id'), ['source_demand_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_leads_source_demand_id_demands'), 'demands',
                                    ['source_demand_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_leads_source_demand_id_demands'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_leads_source_demand_id'))
        batch_op.drop_column('source_demand_id')
    with op.batch_alter_table('event_demands', schema=None) as batch_op:
        batch_op.drop_index('ix_event_demands_demand')
    op.drop_table('event_demands')
    with op.batch_alter_table('demand_match_events', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_match_events_match')
    op.drop_table('demand_match_events')
    with op.batch_alter_table('demand_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_matches_station_stage')
        batch_op.drop_index('ix_demand_matches_stage_changed')
        batch_op.drop_index(batch_op.f('ix_demand_matches_lead_id'))
        batch_op.drop_index(batch_op.f('ix_demand_matches_event_id'))
        batch_op.drop_index('ix_demand_matches_contact')
    op.drop_table('demand_matches')
    with op.batch_alter_table('demand_regions', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_regions_region')
    op.drop_table('demand_regions')
    with op.batch_alter_table('demand_fields', schema=None) as batch_op:
        batch_op.drop_index('ix_demand_fields_folded')
    op.drop_table('demand_fields')
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index('ix_demands_status_created')
        batch_op.drop_index('ix_demands_kind_created')
        batch_op.drop_index('ix_demands_created')
    op.drop_table('demands')
