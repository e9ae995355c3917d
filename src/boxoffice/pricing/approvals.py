"""The approval workflow of price recommendations, as a state machine.

::

    pending ──approve──▶ approved     (writes price_history: old, new, reason, who, when)
       │ ──reject───▶ rejected
       └──expire───▶ expired          (superseded by a newer run, past its validity, or the
                                       event has started; done by the pipeline)

``approved``, ``rejected`` and ``expired`` are final: approving twice, approving a rejected or
expired recommendation, or deciding one past its ``valid_until`` is refused with a message
that says what it is now. The database is where this is enforced: a decision is one call of
``analytics.decide`` and an expiry one of ``analytics.expire_recommendations`` (migration
0010), and no application role may write a status or the price history otherwise. The update
only matches a pending, valid row, so of two people deciding at once exactly one wins.
"""

from __future__ import annotations


class ApprovalError(ValueError):
    """A decision that the recommendation's state does not allow; the message says why."""
