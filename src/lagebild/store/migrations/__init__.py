"""Alembic migrations of the corpus store, shipped in the package and applied on open."""
