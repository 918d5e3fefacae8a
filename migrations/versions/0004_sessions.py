"""server-side session revocation and login throttling

Each user gets a random session token, part of the session id Flask-Login stores in the cookie;
it replaces the session version. Existing users get a random token each, so every session
issued before the upgrade ends (users log in once more). Login throttling keeps its counters in
the rate limiter's storage (memory or Redis), not in the database.

Revision ID: 0004_sessions
Revises: 0003_speed
Create Date: 2026-11-26 20:40:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_sessions'
down_revision = '0003_speed'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String(64)))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('session_version')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.drop_column('session_token')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_version', existing_type=sa.Integer(), server_default=None)
