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
    op.create_table('lead_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_attachments_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_lead_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_lead_attachments_storage_key'))
    )
    with op.batch_alter_table('lead_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_attachments_lead_id'), ['lead_id'], unique=False)


def downgrade():
    with op.batch_alter_table('lead_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_attachments_lead_id'))

    op.drop_table('lead_attachments')
