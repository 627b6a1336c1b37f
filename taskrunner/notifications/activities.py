"""Notification delivery. Workflows say what happened; settings say who hears it.

One ``send_notification`` activity routes a notification to every enabled channel
whose minimum priority it meets, tries them concurrently, retries only the ones
that failed (bounded, with backoff, inside this one activity run), and reports
each channel's outcome. Channel failures never raise: the report says what
happened, and a notification nobody received is logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity

from taskrunner.events import attempts
from taskrunner.notifications.alert_state import (
    UNDELIVERED,
    AlertState,
    channel_failed,
)
from taskrunner.notifications.channels import (
    Channel,
    build_channels,
)
from taskrunner.notifications.channels.base import (
    describe,
    redact,
)
from taskrunner.notifications.channels.console import console_line
from taskrunner.notifications.models import (
    ChannelResult,
    DeliveryReport,
    Notification,
)
from taskrunner.settings import Settings

__all__ = ["NotificationActivities", "console_line"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


def identity(notification: Notification) -> str:
    """What makes two notifications identical for the cooldown: source, priority, key."""
    what = notification.dedupe_key or notification.message
    return "\x1f".join((notification.source, notification.priority.value, what))


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
        key = None if notification.resolves else identity(notification)
        if key is not None:
            # A zero cooldown always claims: sent now, and the cooldown restarts from it.
            cooldown = 0.0 if notification.ignore_cooldown else self.settings.cooldown_seconds
            # Fail open: without its state file, an alert still goes out (unprotected).
            claimed = await self._state(
                True, self.state.claim, key, notification.source, now, cooldown
            )
            if not claimed:
                logger.info("Notification suppressed (cooldown): %s", notification.message)
                return DeliveryReport(
                    delivered=False,
                    suppressed=True,
                    detail=f"identical notification sent within {self.settings.cooldown_seconds:g}s",
                )
        results = await self._deliver(channels, notification)
        delivered = any(r.delivered for r in results)
        await self._state(None, self._record, notification, key, results, delivered, now)
        return DeliveryReport(delivered=delivered, channels=results)

    async def _state(self, default: T, call: Callable[..., T], *args: Any) -> T:
        """Run a blocking alert-state call in a thread; on a SQLite error log it, use ``default``."""
        try:
            return await asyncio.to_thread(call, *args)
        except sqlite3.Error as err:
            logger.error("Notification state %s unusable: %s", self.state.path, err)
            return default

    async def _deliver(
        self, channels: list[Channel], notification: Notification
    ) -> list[ChannelResult]:
        """Try every channel at once; retry only the failed ones, with backoff."""
        results: dict[str, ChannelResult] = {}
        pending = list(channels)
        delay = self.settings.retry_initial_seconds
        for attempt in range(1, self.settings.attempts + 1):
            errors = await asyncio.gather(*(_attempt(c, notification) for c in pending))
            for channel, error in zip(pending, errors, strict=True):
                results[channel.name] = ChannelResult(
                    channel=channel.name, delivered=error is None, error=error, attempts=attempt
                )
            pending = [c for c, error in zip(pending, errors, strict=True) if error is not None]
            if not pending or attempt == self.settings.attempts:
                break
            if activity.in_activity():
                activity.heartbeat(f"attempt {attempt}: {len(pending)} channel(s) failed")
            await asyncio.sleep(delay)
            delay *= self.settings.retry_backoff
        return [results[c.name] for c in channels]

    def _record(
        self,
        notification: Notification,
        key: str | None,
        results: list[ChannelResult],
        delivered: bool,
        now: float,
    ) -> None:
        """Count failures and update the alert state after a delivery."""
        for result in results:
            if not result.delivered:
                self.state.count(channel_failed(result.channel))
                logger.warning(
                    "Notification channel %s failed after %s: %s",
                    result.channel,
                    attempts(result.attempts),
                    result.error,
                )
        if not delivered:
            self.state.count(UNDELIVERED)
            logger.error("Notification not delivered on any channel: %s", notification.message)
            if key is not None:
                self.state.release(key)  # nobody heard it: the next identical one is news
        elif notification.resolves:
            self.state.resolve(notification.source)
        elif notification.priority.rank >= self.settings.alert_min_priority.rank:
            self.state.mark_alerting(
                notification.source, notification.priority, notification.message, now
            )


async def _attempt(channel: Channel, notification: Notification) -> str | None:
    """One delivery attempt on one channel: None when it went through, else the error."""
    try:
        async with asyncio.timeout(channel.timeout_seconds):
            await channel.send(notification)
    except TimeoutError:
        return f"timed out after {channel.timeout_seconds:g}s"
    except Exception as err:  # one channel's failure, whatever it is, stays that channel's
        return redact(describe(err), channel.secrets())
    return None
