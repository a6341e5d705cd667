"""blob_states, quarantined_blobs, blob_uploads: what the blob store used to keep beside the bytes
(mtimes for garbage collection's grace, corrupt markers, quarantine, upload bookkeeping), so that a
store of bytes only (S3) can stand in for the folder.

Nothing is backfilled: a blob without a row is adopted by the next garbage collection as first seen
(collectable one grace period later); an upload in progress across the upgrade is unknown after it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_states",
        sa.Column("digest", sa.String(length=200), nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrupt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_blob_states")),
    )
    op.create_table(
        "quarantined_blobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=False),
        sa.Column("aside", sa.String(length=512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_blobs")),
    )
    op.create_index("ix_quarantined_blobs_digest", "quarantined_blobs", ["digest"], unique=False)
    op.create_table(
        "blob_uploads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("store_key", sa.String(length=512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("hash_state", sa.LargeBinary(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blob_uploads")),
    )
    op.create_index("ix_blob_uploads_updated_at", "blob_uploads", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_blob_uploads_updated_at", table_name="blob_uploads")
    op.drop_table("blob_uploads")
    op.drop_index("ix_quarantined_blobs_digest", table_name="quarantined_blobs")
    op.drop_table("quarantined_blobs")
    op.drop_table("blob_states")
