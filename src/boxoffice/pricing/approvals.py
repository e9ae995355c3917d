"""The approval workflow of price recommendations, as a state machine.

::

    pending ──approve──▶ approved     (writes price_history: old, new, reason, who, when)
       │ ──reject───▶ rejected
       └──expire───▶ expired          (superseded by a newer run, past its validity, or the
                                       event has started; done by the pipeline)

``approved``, ``rejected`` and ``expired`` are final: approving twice, approving a rejected or
expired recommendation, or deciding one past its ``valid_until`` is refused with a message
that says what it is now. The database enforces the same at the moment of the decision (the
update only matches a pending, valid row), so of two people deciding at once exactly one wins.
"""

from __future__ import annotations

import datetime as dt

DECISIONS = {"approve": "approved", "reject": "rejected"}
FINAL = ("approved", "rejected", "expired")


class ApprovalError(ValueError):
    """A decision that the recommendation's state does not allow; the message says why."""


def check_decision(
    decision: str, *, status: str | None, valid_until: dt.date | None, today: dt.date, by: str
) -> str:
    """The status ``decision`` moves a recommendation to, or :class:`ApprovalError`."""
    if decision not in DECISIONS:
        raise ApprovalError(f"unknown decision {decision!r}; expected one of {list(DECISIONS)}")
    if not by or not by.strip():
        raise ApprovalError("say who decides (--by NAME)")
    if status is None:
        raise ApprovalError("no such recommendation for this tenant")
    if status in FINAL:
        raise ApprovalError(f"the recommendation is already {status}")
    if valid_until is not None and valid_until < today:
        raise ApprovalError(f"the recommendation expired on {valid_until}")
    return DECISIONS[decision]
