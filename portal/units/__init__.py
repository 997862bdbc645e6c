"""Wards, their residential groups (areas) and the units that handle petitions."""
