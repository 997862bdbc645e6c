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

login_attempt = portal_signals.signal("login-attempt")
"""Sent for every login tried on the form, inside the request's transaction (the caller
commits, a refusal too), with ``account=`` (the :class:`User` of the address typed, or
None when there is none), ``outcome=`` ("login", "refused" or "lockout"), ``reason=`` (of a
refusal: "password", "unknown", "locked", "inactive", "other-ward") and ``failures=``
(wrong passwords in a row). Never the password, never an address typed that matches no
account. The privacy package writes it to the audit log."""

petition_merging = portal_signals.signal("petition-merging")
"""Sent (with ``into=``, the surviving petition) by a merge before anything is written to
the survivor's timeline, inside the transaction. Receivers move what belongs to the merged
petition's audience and return how many followers they moved; the merge records the total
on the merged petition's timeline (a number, never who)."""
