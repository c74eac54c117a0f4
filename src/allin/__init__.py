"""Allin, by Team 8: an assistant that helps new software engineers get productive."""

__version__ = "0.1.0"
