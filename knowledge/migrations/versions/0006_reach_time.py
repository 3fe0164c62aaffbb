"""reach time: when an article reached each server, so a server's digest announces an article
when it reached that server (a duplicate of another server's article included)

Revision ID: 0006_reach_time
Revises: 0005_simhash_bands
Create Date: 2026-12-01 00:00:00

Rows already stored keep NULL: their time is the article's own `added_at`, which is what the
digests used before this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_reach_time'
down_revision = '0005_simhash_bands'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('article_reach', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('article_reach', schema=None) as batch_op:
        batch_op.drop_column('reached_at')
