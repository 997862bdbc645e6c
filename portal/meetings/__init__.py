"""Dialogue meetings, conclusion notices, item follow-up and reports back."""
