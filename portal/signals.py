"""Signals between feature packages, so that one can react to another without importing it.

``petition_event`` is sent, inside the same database transaction, for every event appended
to a petition's timeline; receivers may add rows to the session (the notification outbox
does) and must not commit.
"""

from __future__ import annotations

from blinker import Namespace

portal_signals = Namespace()

petition_event = portal_signals.signal("petition-event")

petition_cosigned = portal_signals.signal("petition-cosigned")
"""Sent (with ``co_signature=``) when a resident co-signs a petition, inside the request's
transaction; the notifications package turns a given e-mail into a follow request."""
