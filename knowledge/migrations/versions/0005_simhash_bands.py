"""simhash bands: the near-duplicate check looks up four indexed columns instead of scanning

Revision ID: 0005_simhash_bands
Revises: 0004_article_deletions
Create Date: 2026-11-30 13:00:00

Two fingerprints at most NEAR_DUPLICATE_BITS (3) apart agree on at least one of their four
16-bit quarters (pigeonhole), so the near-duplicate check asks for articles sharing a quarter,
through an index, and compares only those (knowledge/text/simhash.py `bands`). Existing
articles get their quarters here, from the stored (signed) fingerprint: SQLite and PostgreSQL
both shift a negative BIGINT arithmetically, as Python does, so `(simhash >> 16*i) & 65535`
is the same number in all three.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_simhash_bands'
down_revision = '0004_article_deletions'
branch_labels = None
depends_on = None

BANDS = 4


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        for i in range(BANDS):
            batch_op.add_column(sa.Column(f'simhash_band{i}', sa.Integer(), nullable=True))
    with op.batch_alter_table('articles', schema=None) as batch_op:
        for i in range(BANDS):
            batch_op.create_index(batch_op.f(f'ix_articles_simhash_band{i}'),
                                  [f'simhash_band{i}'], unique=False)
    op.execute("UPDATE articles SET " + ", ".join(
        f"simhash_band{i} = (simhash >> {16 * i}) & 65535" for i in range(BANDS))
        + " WHERE simhash IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        for i in range(BANDS):
            batch_op.drop_index(batch_op.f(f'ix_articles_simhash_band{i}'))
        for i in range(BANDS):
            batch_op.drop_column(f'simhash_band{i}')
