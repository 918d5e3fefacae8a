"""Saved views: a list's filters and sort saved by name, per user, optionally shared."""
