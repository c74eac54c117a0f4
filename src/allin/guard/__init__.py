"""Limits that keep one client, or one user, from taking the server away from everyone else:
log-in and sign-up backoff, who may sign up, open sockets and control frames per user. Their
state is in Postgres, so they hold however many processes serve the app."""
