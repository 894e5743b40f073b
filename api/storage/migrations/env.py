"""Alembic environment: runs on the connection ``Database.migrate`` hands over (no alembic.ini).

Alembic executes this file when it migrates; imported on its own (the structure tests import
every module) it does nothing, because no migration context is installed.
"""

from __future__ import annotations

from alembic import context

from api.storage.models import Base


def run_migrations() -> None:
    """Run the migrations on the connection given in the config's attributes."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "_proxy", None) is not None:
    run_migrations()
