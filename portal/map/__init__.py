"""The map: residential-group boundaries, petition pins, address suggestions."""
