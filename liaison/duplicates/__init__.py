"""Duplicates across stations: matching (``matching``), the HQ queue, merge and undo (``services``)."""
