"""Storage of the sidecar: SQLAlchemy 2 models, Alembic migrations, one session factory."""
