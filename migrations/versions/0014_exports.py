"""exports: a record of every export (who, when, what, filters, rows, format), its rows per
station, and the station setting "volunteers may export"

Revision ID: 0014_exports
Revises: 0013_scorecard
Create Date: 2026-11-27 01:05:00

New tables, and one column on ``stations`` (true by default: the stations' volunteers keep the
export they had; a regional admin can switch it off per station).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_exports'
down_revision = '0013_scorecard'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('what', sa.String(length=40), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_records_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_records'))
    )
    with op.batch_alter_table('export_records', schema=None) as batch_op:
        batch_op.create_index('ix_export_records_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_records_user_id'), ['user_id'], unique=False)

    op.create_table('export_stations',
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['export_id'], ['export_records.id'], name=op.f('fk_export_stations_export_id_export_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_export_stations_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('export_id', 'station_id', name=op.f('pk_export_stations'))
    )
    with op.batch_alter_table('export_stations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_stations_station_id'), ['station_id'], unique=False)

    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('volunteers_may_export', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_column('volunteers_may_export')
    with op.batch_alter_table('export_stations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_stations_station_id'))
    op.drop_table('export_stations')
    with op.batch_alter_table('export_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_records_user_id'))
        batch_op.drop_index('ix_export_records_created')
    op.drop_table('export_records')
