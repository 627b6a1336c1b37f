"""Whether a notification goes out now: a pure decision over its identity's last page.

A *page* is one sending of one identity (an alert: source + alert name; a plain
notification: source, priority and message or dedupe key) to its channels. It is
reserved before any channel is tried, confirmed channel by channel as each one
takes it, and closed when the sending ends: confirmed if anyone heard it, dropped
if nobody did. A reservation expires: a sender that died mid-send leaves a page
that the next sender of the same identity takes over, resending to the channels
not yet confirmed. So delivery is at-least-once per channel, and storm protection
only ever holds back a notification whose page somebody confirmed or still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from taskrunner.notifications.models import Priority


@dataclass(frozen=True)
class Page:
    """The state file's row of one identity: its last page."""

    page_id: str
    holder: str
    """Who sends it: every attempt of one activity has the same holder."""
    priority: Priority
    sent_at: float
    reserved_until: float
    confirmed: bool
    """Somebody heard it: the cooldown runs from ``sent_at``."""


@dataclass(frozen=True)
class Request:
    """A sender asking to send one notification now."""

    key: str
    """The identity (see ``activities.identity``)."""
    source: str
    holder: str
    priority: Priority
    now: float
    cooldown: float
    alert: str | None = None
    """The alert's name; its page is repeated at a higher priority."""
    message: str = ""
    """The alert's details, kept on the open alert when it does not page."""
    force: bool = False


class Verdict(StrEnum):
    NEW = "new"
    """Start a page: every routed channel."""
    RESUME = "resume"
    """Carry on an unfinished page (own retry, or its sender's reservation expired)."""
    DELIVERED = "delivered"
    """This sender's page is already confirmed: a retry of a run that ended unseen."""
    IN_FLIGHT = "in_flight"
    """Another sender holds an unexpired reservation of it: it will deliver (or expire)."""
    COOLDOWN = "cooldown"
    """Confirmed within the cooldown (an open alert at this priority or above)."""

    @property
    def sends(self) -> bool:
        return self in (Verdict.NEW, Verdict.RESUME)


def decide(page: Page | None, request: Request) -> Verdict:
    """What to do with ``request`` given the identity's last page (None: never sent)."""
    if page is None:
        return Verdict.NEW
    rises = request.alert is not None and request.priority.rank > page.priority.rank
    if page.confirmed:
        if page.holder == request.holder:
            return Verdict.DELIVERED
        if request.force or rises or request.now - page.sent_at >= request.cooldown:
            return Verdict.NEW
        return Verdict.COOLDOWN
    if page.holder == request.holder or page.reserved_until <= request.now:
        return Verdict.RESUME
    return Verdict.NEW if request.force or rises else Verdict.IN_FLIGHT
