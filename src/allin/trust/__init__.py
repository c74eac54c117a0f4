"""Answers a newcomer can trust: stale-citation warnings computed at sync time, honest abstention
with the people likely to know, and the knowledge-gap report."""
