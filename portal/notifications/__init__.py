"""E-mail notifications that are never lost: an outbox written in the same transaction as
the change, a worker that delivers it (at least once), followers with double opt-in,
weekly digests for staff, and Atom feeds.

``portal/__init__.py`` registers :data:`views.bp` and connects
:func:`services.on_petition_event` to :data:`portal.signals.petition_event`;
``portal/cli.py`` adds :data:`cli.COMMANDS` to ``flask portal``.
"""
