"""Postgres: the embedded server, the pool, migrations, and the repositories (all the SQL)."""
