"""``taskrunner notify``: try the notification channels, and show alert state."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from taskrunner.notifications.models import (
    DeliveryReport,
    Notification,
    Priority,
)
from taskrunner.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "notify",
        help="send a test notification, or show alert and delivery state",
        description="Check the notification settings without Temporal: `send` delivers one "
        "notification through the configured channels (same code as the activity) and prints "
        "each channel's outcome; `status` shows active alerts and delivery counters.",
    )
    commands = parser.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    send = commands.add_parser("send", help="deliver one notification (exit 1 if nobody got it)")
    send.add_argument("message")
    send.add_argument(
        "--priority", choices=[p.value for p in Priority], default=Priority.INFO.value
    )
    send.add_argument("--source", default="cli")
    send.add_argument(
        "--force",
        action="store_true",
        help="send even if an identical notification went out within the cooldown",
    )
    send.set_defaults(handler=send_command)
    status = commands.add_parser("status", help="active alerts and delivery counters")
    status.set_defaults(handler=status_command)


async def send_command(args: argparse.Namespace, settings: Settings) -> int:
    from taskrunner.notifications.activities import NotificationActivities

    notification = Notification(
        message=args.message,
        priority=Priority(args.priority),
        source=args.source,
        ignore_cooldown=args.force,
    )
    report = await NotificationActivities(settings).send_notification(notification)
    print(render_report(report))
    return 0 if report.delivered else 1


def render_report(report: DeliveryReport) -> str:
    """One line per channel, then the overall outcome."""
    lines = [
        f"  {r.channel:<8} {'delivered' if r.delivered else 'FAILED':<9} "
        f"attempts={r.attempts}{'  ' + r.error if r.error else ''}"
        for r in report.channels
    ]
    if report.detail:
        lines.append(
            f"  {report.detail}" + ("; --force sends it anyway" if report.suppressed else "")
        )
    lines.append("Delivered." if report.delivered else "Not delivered.")
    return "\n".join(lines)


async def status_command(args: argparse.Namespace, settings: Settings) -> int:
    from taskrunner.notifications.alert_state import AlertState

    state = AlertState(settings.notifications.state_file(settings.data_dir))
    alerts = state.active_alerts()
    print(f"Active alerts: {len(alerts)}")
    for alert in alerts:
        name = f"{alert.source}/{alert.alert}" if alert.alert else alert.source
        updated = f", updated {_when(alert.updated_at)}" if alert.updated_at > alert.since else ""
        first_line = (alert.message.splitlines() or [""])[0]
        print(
            f"  {name} [{alert.priority.value}] since {_when(alert.since)}{updated}: {first_line}"
        )
    counters = state.counters()
    print("Counters: " + (", ".join(f"{k}={v}" for k, v in sorted(counters.items())) or "none"))
    return 0


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
