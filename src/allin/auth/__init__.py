"""Who is calling: local accounts (argon2 passwords, our own JWTs) or Supabase Auth tokens."""
