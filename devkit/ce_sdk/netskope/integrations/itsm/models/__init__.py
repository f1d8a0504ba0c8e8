"""Stand-in for ``netskope.integrations.itsm.models`` (pydantic v2, as in CE 6)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Severity(StrEnum):
    """Ticket severities CTO receivers understand."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "informational"
    OTHER = "other"


class TaskStatus(StrEnum):
    """Ticket lifecycle states CE tracks."""

    NOTIFICATION = "notification"
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    CLOSED = "closed"
    DELETED = "deleted"
    FAILED = "failed"
    OTHER = "other"


class Alert(BaseModel):
    """An alert pulled from a CTO source; CE upserts alerts by ``id``."""

    id: str
    configuration: str | None = None
    alertName: str
    alertType: str
    app: str | None = None
    appCategory: str | None = None
    user: str | None = None
    type: str
    timestamp: datetime
    rawData: dict[str, Any] = Field(default_factory=dict)


class Event(BaseModel):
    """An event pulled from a CTO source (CE 5.1+)."""

    id: str
    configuration: str | None = None
    eventType: str
    timestamp: datetime
    rawData: dict[str, Any] = Field(default_factory=dict)


class Task(BaseModel):
    """A ticket created by a receiver plugin."""

    id: str
    status: TaskStatus = TaskStatus.NEW
    link: str | None = None
    deletedAt: datetime | None = None
    severity: Severity | None = None
    dataItem: Any = None
    updatedValues: Any = None


class Queue(BaseModel):
    """A receiver-side queue (ServiceNow table, Jira project...)."""

    label: str
    value: str
    isDefault: bool = False


class FieldMapping(BaseModel):
    """One queue mapping: a receiver field filled from a template with ``$placeholders``."""

    extracted_field: str
    destination_field: str
    custom_message: str = ""


__all__ = ["Alert", "Event", "Task", "TaskStatus", "Severity", "Queue", "FieldMapping"]
