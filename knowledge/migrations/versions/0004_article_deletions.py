"""article_deletions: a log of deleted articles, read by other processes' index refresh

Revision ID: 0004_article_deletions
Revises: 0003_server_visibility
Create Date: 2026-11-30 08:30:00

Each deletion is logged in the transaction that deletes the article; a process refreshing its
in-memory index reads the log past the last id it saw (issue 11: noticing deletions must not
scan every article id). Libraries from before start with an empty log: their processes load
the index after the upgrade, so nothing deleted earlier is in it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_article_deletions'
down_revision = '0003_server_visibility'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('article_deletions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('article_deletions')
