"""The health monitor: system metrics from psutil, service probes, a critical alert when unhealthy."""
