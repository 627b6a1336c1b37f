"""The operations dashboard ``taskrunner run`` serves (and ``taskrunner dashboard``).

Starlette + Jinja2 templates + htmx (vendored under ``static/``): pages over the same
client code as the CLI, refreshed in place, with the queue's and the schedules' actions.
"""

from taskrunner.dashboard.app import build_app
from taskrunner.dashboard.server import DashboardServer, dashboard_server

__all__ = ["DashboardServer", "build_app", "dashboard_server"]
