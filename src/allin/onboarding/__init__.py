"""Onboarding paths: a team's plan for newcomers, written as a Markdown checklist in a synced
repository, each user's progress through it, their next step, and a short profile of who is
asking that shapes the answers."""
