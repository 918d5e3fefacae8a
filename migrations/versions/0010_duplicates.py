"""duplicates across stations: name keys, candidate pairs, merges with undo

Revision ID: 0010_duplicates
Revises: 0009_reports
Create Date: 2026-11-27 00:10:00

New tables only (``contact_name_keys``, ``duplicate_pairs``, ``contact_merges``) and two indexes
on ``contacts`` (``email_normalized`` and ``phone_e164`` alone, for lookups across stations).
Existing contacts get their name keys and candidate pairs through ``liaison.duplicates.matching
.rebuild`` — the same code the app runs on every save (``flask --app liaison duplicates scan``
does it again at any time). It reads only columns that exist at this revision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_duplicates'
down_revision = '0009_reports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_name_keys',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_name_keys_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'key', name=op.f('pk_contact_name_keys'))
    )
    op.create_index('ix_contact_name_keys_key', 'contact_name_keys', ['key', 'contact_id'], unique=False)

    op.create_table('duplicate_pairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_a_id', sa.Integer(), nullable=False),
    sa.Column('contact_b_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('dismissed_at', sa.DateTime(), nullable=True),
    sa.Column('dismissed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('contact_a_id < contact_b_id', name=op.f('ck_duplicate_pairs_ordered')),
    sa.CheckConstraint("status IN ('open', 'dismissed')", name=op.f('ck_duplicate_pairs_status')),
    sa.ForeignKeyConstraint(['contact_a_id'], ['contacts.id'], name=op.f('fk_duplicate_pairs_contact_a_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_b_id'], ['contacts.id'], name=op.f('fk_duplicate_pairs_contact_b_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dismissed_by_id'], ['users.id'], name=op.f('fk_duplicate_pairs_dismissed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_pairs')),
    sa.UniqueConstraint('contact_a_id', 'contact_b_id', name=op.f('uq_duplicate_pairs_contact_a_id_contact_b_id'))
    )
    op.create_index('ix_duplicate_pairs_status_score', 'duplicate_pairs', ['status', 'score', 'id'], unique=False)
    op.create_index('ix_duplicate_pairs_contact_b', 'duplicate_pairs', ['contact_b_id'], unique=False)

    op.create_table('contact_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('survivor_id', sa.Integer(), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('survivor_station_id', sa.Integer(), nullable=False),
    sa.Column('merged_station_id', sa.Integer(), nullable=False),
    sa.Column('survivor_before', sa.JSON(), nullable=False),
    sa.Column('merged_before', sa.JSON(), nullable=False),
    sa.Column('survivor_after', sa.JSON(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('removed', sa.JSON(), nullable=False),
    sa.Column('plugin_data', sa.JSON(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_contact_merges_actor_id_users')),
    sa.ForeignKeyConstraint(['merged_station_id'], ['stations.id'], name=op.f('fk_contact_merges_merged_station_id_stations')),
    sa.ForeignKeyConstraint(['survivor_station_id'], ['stations.id'], name=op.f('fk_contact_merges_survivor_station_id_stations')),
    sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'], name=op.f('fk_contact_merges_undone_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_merges'))
    )
    op.create_index(op.f('ix_contact_merges_created_at'), 'contact_merges', ['created_at'], unique=False)
    op.create_index('ix_contact_merges_survivor', 'contact_merges', ['survivor_id'], unique=False)
    op.create_index('ix_contact_merges_merged', 'contact_merges', ['merged_id'], unique=False)

    op.create_index('ix_contacts_email_normalized', 'contacts', ['email_normalized'], unique=False)
    op.create_index('ix_contacts_phone_e164', 'contacts', ['phone_e164'], unique=False)

    from liaison.duplicates.matching import rebuild

    rebuild(op.get_bind())


def downgrade():
    op.drop_index('ix_contacts_phone_e164', table_name='contacts')
    op.drop_index('ix_contacts_email_normalized', table_name='contacts')
    op.drop_index('ix_contact_merges_merged', table_name='contact_merges')
    op.drop_index('ix_contact_merges_survivor', table_name='contact_merges')
    op.drop_index(op.f('ix_contact_merges_created_at'), table_name='contact_merges')
    op.drop_table('contact_merges')
    op.drop_index('ix_duplicate_pairs_contact_b', table_name='duplicate_pairs')
    op.drop_index('ix_duplicate_pairs_status_score', table_name='duplicate_pairs')
    op.drop_table('duplicate_pairs')
    op.drop_index('ix_contact_name_keys_key', table_name='contact_name_keys')
    op.drop_table('contact_name_keys')
