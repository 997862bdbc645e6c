"""Entry point for gunicorn and ``flask``: the only module-level application."""

from portal import create_app

app = create_app()
