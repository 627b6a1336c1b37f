"""Settings of the health monitor: thresholds and service probes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_THRESHOLD = 90.0
"""CPU, memory and disk percentage at or above which the system is unhealthy."""
METRICS = ("cpu", "memory", "disk")
"""The measured metrics; each has ``<name>_threshold`` and ``<name>_critical_threshold``."""


Percent = Annotated[float, Field(ge=0, le=100)]


class _Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    timeout_seconds: float = Field(default=5.0, gt=0, le=300)


class TcpProbe(_Probe):
    kind: Literal["tcp"] = "tcp"
    host: str
    port: int = Field(ge=1, le=65535)


class HttpProbe(_Probe):
    kind: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    expected_status: int = Field(default=200, ge=100, le=599)


class PostgresProbe(_Probe):
    kind: Literal["postgres"] = "postgres"
    dsn: str


class RedisProbe(_Probe):
    kind: Literal["redis"] = "redis"
    url: str = Field(pattern=r"^rediss?://")


class AmqpProbe(_Probe):
    kind: Literal["amqp"] = "amqp"
    url: str = Field(pattern=r"^amqps?://")


class DockerProbe(_Probe):
    kind: Literal["docker"] = "docker"
    container: str
    docker_host: str | None = None
    """Docker engine URL; the environment's DOCKER_HOST (or the local socket) when unset."""


ProbeSpec = Annotated[
    TcpProbe | HttpProbe | PostgresProbe | RedisProbe | AmqpProbe | DockerProbe,
    Field(discriminator="kind"),
]


class HealthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpu_threshold: Percent = DEFAULT_THRESHOLD
    memory_threshold: Percent = DEFAULT_THRESHOLD
    disk_threshold: Percent = DEFAULT_THRESHOLD
    cpu_critical_threshold: Percent | None = None
    """At or above it the health alert is ``critical`` (a breach below it is an ``error``)."""
    memory_critical_threshold: Percent | None = None
    disk_critical_threshold: Percent | None = None
    disk_path: Path = Path("/")
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    """URL whose response time is reported as the ``responseTime`` metric."""
    api_timeout_seconds: float = Field(default=5.0, gt=0)
    cpu_sample_seconds: float = Field(default=0.5, gt=0, le=10)
    probes: list[ProbeSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _critical_at_or_above_threshold(self) -> HealthSettings:
        for name in METRICS:
            threshold = getattr(self, f"{name}_threshold")
            critical = getattr(self, f"{name}_critical_threshold")
            if critical is not None and critical < threshold:
                raise ValueError(
                    f"{name}_critical_threshold ({critical:g}) is below {name}_threshold "
                    f"({threshold:g}): raise it, or lower {name}_threshold"
                )
        return self

    @field_validator("probes")
    @classmethod
    def _unique_names(cls, probes: list[Any]) -> list[Any]:
        names = [p.name for p in probes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"probe names must be unique, repeated: {', '.join(dupes)}")
        return probes
