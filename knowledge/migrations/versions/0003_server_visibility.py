"""sources belong to servers, articles reach servers (source_subscriptions, article_reach)

Revision ID: 0003_server_visibility
Revises: 0002_guild_settings
Create Date: 2026-11-30 08:10:00

A feed several servers follow stays one `sources` row, fetched once; each server follows it
through its own `source_subscriptions` row. `article_reach` records which servers an article
reached (through a source or an upload, also when it was met again as a duplicate); guild 0 is
the operator's library (the command line, the founding corpus), which every server sees.
Existing rows are carried over: a source's adder becomes its one subscriber, an article reaches
the server of its source (the operator when it has none) and of every source it appeared in.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_server_visibility'
down_revision = '0002_guild_settings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('source_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('added_by', sa.String(length=200), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'guild_id')
    )
    op.create_index(op.f('ix_source_subscriptions_source_id'), 'source_subscriptions',
                    ['source_id'], unique=False)
    op.create_index(op.f('ix_source_subscriptions_guild_id'), 'source_subscriptions',
                    ['guild_id'], unique=False)
    op.create_table('article_reach',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'guild_id')
    )
    op.create_index(op.f('ix_article_reach_article_id'), 'article_reach', ['article_id'],
                    unique=False)
    op.create_index(op.f('ix_article_reach_guild_id'), 'article_reach', ['guild_id'],
                    unique=False)
    op.execute(
        "INSERT INTO source_subscriptions (source_id, guild_id, added_by, added_at, active) "
        "SELECT id, COALESCE(guild_id, 0), added_by, added_at, active FROM sources")
    op.execute(
        "INSERT INTO article_reach (article_id, guild_id) "
        "SELECT article_id, guild FROM ("
        " SELECT a.id AS article_id, COALESCE(s.guild_id, 0) AS guild"
        " FROM articles a LEFT JOIN sources s ON s.id = a.source_id"
        " UNION"
        " SELECT ap.article_id AS article_id, COALESCE(s.guild_id, 0) AS guild"
        " FROM article_appearances ap JOIN sources s ON s.id = ap.source_id"
        ") AS reach ORDER BY article_id, guild")


def downgrade() -> None:
    op.drop_index(op.f('ix_article_reach_guild_id'), table_name='article_reach')
    op.drop_index(op.f('ix_article_reach_article_id'), table_name='article_reach')
    op.drop_table('article_reach')
    op.drop_index(op.f('ix_source_subscriptions_guild_id'), table_name='source_subscriptions')
    op.drop_index(op.f('ix_source_subscriptions_source_id'), table_name='source_subscriptions')
    op.drop_table('source_subscriptions')
