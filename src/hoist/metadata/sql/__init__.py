"""The metadata store on SQLAlchemy 2 (SQLite or PostgreSQL), with Alembic migrations."""
