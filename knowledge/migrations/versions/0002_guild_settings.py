"""per-server settings (guild_settings)

Revision ID: 0002_guild_settings
Revises: 0001
Create Date: 2026-11-30 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_guild_settings'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('guild_settings',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('admin_role', sa.String(length=100), nullable=True),
    sa.Column('ask_cooldown_rate', sa.Integer(), nullable=True),
    sa.Column('ask_cooldown_seconds', sa.Float(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('alert_channel_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('guild_id')
    )


def downgrade() -> None:
    op.drop_table('guild_settings')
