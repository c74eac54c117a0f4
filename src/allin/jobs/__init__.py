"""Long work (repository syncs) as jobs on Procrastinate, in the app's own Postgres."""
