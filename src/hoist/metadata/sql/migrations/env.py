"""Alembic environment: the engine comes from ``hoist.metadata.sql.migrate``, never from a URL in a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

from hoist.metadata.sql.tables import Base

engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    # PostgreSQL: one migrator at a time when several servers start together.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_lock(7263541)")
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_unlock(7263541)")
            connection.commit()
