"""Petitions (kiến nghị): filing, the status machine, the timeline and photos."""
