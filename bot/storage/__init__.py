"""Storage: the SQLAlchemy model, the engine factory, migrations and repositories."""
