"""Alembic environment: always run with a connection handed in by `lagebild.store`.

There is no alembic.ini: the store builds the `Config` in code and passes its open
connection via `config.attributes["connection"]`, so migrating needs no files
outside the installed package.
"""

from __future__ import annotations

from alembic import context

from lagebild.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs `alembic` by hand
    raise RuntimeError("lagebild migrations run through lagebild.store.open_store()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
