"""Notification delivery. Workflows say what happened; settings say who hears it.

One ``send_notification`` activity routes a notification to every enabled channel
whose minimum priority it meets, reserves its page in the alert state (see
``pages.py``), tries the channels concurrently, retries each failed one (bounded,
with backoff, inside this run) unless it refused for good, confirms each channel
as it takes the notification, and reports each channel's outcome. Channel failures
never raise: the report says what happened, and a notification nobody received is
logged and counted. A run lost with its worker is retried by Temporal: the retry
resumes the same page and skips the channels that confirmed it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from temporalio import activity

from taskrunner.events import attempts
from taskrunner.notifications.alert_state import (
    UNDELIVERED,
    AlertState,
    Reservation,
    channel_failed,
)
from taskrunner.notifications.channels import (
    Channel,
    build_channels,
)
from taskrunner.notifications.channels.base import (
    ChannelError,
    describe,
    redact,
)
from taskrunner.notifications.channels.console import console_line
from taskrunner.notifications.models import (
    ChannelResult,
    DeliveryReport,
    Notification,
)
from taskrunner.notifications.pages import Request, Verdict
from taskrunner.observability.metrics import (
    FAILED,
    SENT,
    SUPPRESSED,
    activity_meter,
    count_notification,
)
from taskrunner.policies import NOTIFY_TIMEOUT
from taskrunner.settings import Settings
from taskrunner.tasks.common import heartbeating

__all__ = ["NotificationActivities", "console_line"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

RESERVATION_SECONDS = NOTIFY_TIMEOUT.total_seconds()
"""How long a page stays reserved for its sender: no attempt outlives its start-to-close
timeout, so after this its sender is dead or gave up, and another may take the page over."""


def identity(notification: Notification) -> str:
    """What makes two notifications the same: an alert's name, else priority and key."""
    n = notification
    if n.resolves:
        return "\x1f".join(("resolved", n.source))
    if n.alert is not None:
        return "\x1f".join(("alert", n.source, n.alert))
    return "\x1f".join(("plain", n.source, n.priority.value, n.dedupe_key or n.message))


def holder() -> str:
    """Who is sending: the same for every attempt of one activity (a retry resumes its page)."""
    if activity.in_activity():
        info = activity.info()
        return f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
    return f"process/{uuid.uuid4().hex}"


class NotificationActivities:
    """The send_notification activity; the worker builds it with the settings.

    Args:
        settings: The runner's settings (its ``notifications`` and ``smtp`` sections).
        clock: Seconds since the epoch; the real clock, replaceable in tests.
        channels: The channels to use; by default built from the settings.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        channels: list[Channel] | None = None,
    ) -> None:
        self.settings = settings.notifications
        self.channels = build_channels(settings) if channels is None else channels
        self.state = AlertState(self.settings.state_file(settings.data_dir))
        self.clock = clock

    @activity.defn(name="send_notification")
    async def send_notification(self, notification: Notification) -> DeliveryReport:
        """Deliver through the routed channels; never raises for a channel failure."""
        now = self.clock()
        routed = notification.priority
        if notification.resolves:
            # A resolved message goes where the alert went, and only if there was one.
            alert = await self._state(None, self.state.active_alert, notification.source)
            if alert is None:
                return DeliveryReport(
                    delivered=False,
                    suppressed=True,
                    detail=f"{notification.source} has no active alert to resolve",
                )
            routed = alert
        channels = [c for c in self.channels if c.wants(routed)]
        if not channels:
            return DeliveryReport(
                delivered=False, detail=f"no enabled channel takes {routed.value} notifications"
            )
        request = Request(
            key=identity(notification),
            source=notification.source,
            holder=holder(),
            priority=notification.priority,
            now=now,
            cooldown=self.settings.cooldown_seconds,
            alert=notification.alert,
            message=notification.message,
            force=notification.ignore_cooldown,
        )
        # Fail open: without its state file, a notification still goes out (unprotected).
        fail_open = Reservation(Verdict.NEW, uuid.uuid4().hex)
        page = await self._state(fail_open, self.state.reserve, request, RESERVATION_SECONDS)
        if page.verdict == Verdict.DELIVERED:
            # This run's earlier attempt ended, unseen by Temporal: say what it did.
            return DeliveryReport(delivered=True, channels=_earlier(channels, page))
        if not page.verdict.sends:
            logger.info("Notification not paged (%s): %s", page.verdict, notification.message)
            for channel in channels:
                count_notification(activity_meter(), channel.name, SUPPRESSED)
            return DeliveryReport(delivered=False, suppressed=True, detail=self._why(request, page))
        note = notification.model_copy(update={"delivery_id": page.page_id})
        todo = [c for c in channels if c.name not in page.confirmed]
        # Heartbeats while the channels are tried: a dead worker's run is retried soon.
        async with heartbeating(lambda: "delivering"):
            tried = await asyncio.gather(*(self._deliver(c, note, request, page) for c in todo))
        by_name = {r.channel: r for r in tried}
        for result in tried:
            count_notification(
                activity_meter(), result.channel, SENT if result.delivered else FAILED
            )
        results = [by_name.get(r.channel, r) for r in _earlier(channels, page)]
        delivered = any(r.delivered for r in results)
        await self._state(None, self._record, notification, request, page, results, delivered)
        return DeliveryReport(delivered=delivered, channels=results)

    def _why(self, request: Request, page: Reservation) -> str:
        if page.verdict == Verdict.IN_FLIGHT:
            return "an identical notification is being sent right now (by another run)"
        if request.alert is not None:
            return (
                f"alert {request.alert} is already open at this priority or above: "
                f"details updated, no page within {self.settings.cooldown_seconds:g}s"
            )
        return f"identical notification sent within {self.settings.cooldown_seconds:g}s"

    async def _state(self, default: T, call: Callable[..., T], *args: Any) -> T:
        """Run a blocking alert-state call in a thread; on a SQLite error log it, use ``default``."""
        try:
            return await asyncio.to_thread(call, *args)
        except sqlite3.Error as err:
            logger.error("Notification state %s unusable: %s", self.state.path, err)
            return default

    async def _deliver(
        self, channel: Channel, notification: Notification, request: Request, page: Reservation
    ) -> ChannelResult:
        """Try one channel until it takes the notification (then confirm it), or give up."""
        delay = self.settings.retry_initial_seconds
        failure, attempt = Failure("not tried", final=False), 0
        for attempt in range(1, self.settings.attempts + 1):
            failed = await _attempt(channel, notification)
            if failed is None:
                await self._state(
                    None, self.state.confirm, request.key, page.page_id, channel.name, self.clock()
                )
                return ChannelResult(channel=channel.name, delivered=True, attempts=attempt)
            failure = failed
            if failure.final or attempt == self.settings.attempts:
                break
            await asyncio.sleep(delay)
            delay *= self.settings.retry_backoff
        return ChannelResult(
            channel=channel.name,
            delivered=False,
            error=failure.error,
            attempts=attempt,
            final=failure.final,
        )

    def _record(
        self,
        notification: Notification,
        request: Request,
        page: Reservation,
        results: list[ChannelResult],
        delivered: bool,
    ) -> None:
        """Count failures, close the page and update the open alerts after a delivery."""
        for result in results:
            if not result.delivered:
                self.state.count(channel_failed(result.channel))
                logger.warning(
                    "Notification channel %s failed after %s: %s",
                    result.channel,
                    attempts(result.attempts),
                    result.error,
                )
        self.state.finish(request.key, page.page_id, delivered)
        if not delivered:
            self.state.count(UNDELIVERED)
            logger.error("Notification not delivered on any channel: %s", notification.message)
        elif notification.resolves:
            self.state.resolve(notification.source)
        elif notification.priority.rank >= self.settings.alert_min_priority.rank:
            self.state.mark_alerting(
                notification.source,
                notification.alert or "",
                notification.priority,
                notification.message,
                request.now,
            )


def _earlier(channels: list[Channel], page: Reservation) -> list[ChannelResult]:
    """Each channel as the page's earlier attempts left it: confirmed, or not yet."""
    return [
        ChannelResult(
            channel=c.name,
            delivered=c.name in page.confirmed,
            attempts=0,
            error=None if c.name in page.confirmed else "not delivered by an earlier attempt",
        )
        for c in channels
    ]


class Failure(NamedTuple):
    error: str
    final: bool


async def _attempt(channel: Channel, notification: Notification) -> Failure | None:
    """One delivery attempt on one channel: None when it went through, else the failure."""
    try:
        async with asyncio.timeout(channel.timeout_seconds):
            await channel.send(notification)
    except TimeoutError:
        return Failure(f"timed out after {channel.timeout_seconds:g}s", final=False)
    except Exception as err:  # one channel's failure, whatever it is, stays that channel's
        final = isinstance(err, ChannelError) and not err.retryable
        return Failure(redact(describe(err), channel.secrets()), final)
    return None
