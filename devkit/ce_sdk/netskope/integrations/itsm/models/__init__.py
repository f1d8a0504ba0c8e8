"""Stand-in for ``netskope.integrations.itsm.models`` (pydantic v2, as in CE 6).

Field names, types and defaults as CE 6's CTO models have them where plugins touch them.
Enumerations derive from ``(str, Enum)`` as CE's do (so ``str(TaskStatus.NEW)`` is
``'TaskStatus.NEW'``, not ``'new'``). ``Task.status``/``severity`` accept any string: a
receiver stores its own ticket state there (ServiceNow's ``"1"``) and CE maps it back with
the plugin's ``get_default_custom_mappings``. Models are not validated on assignment, so a
plugin may set any value afterwards, as CE allows.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class Severity(str, Enum):  # noqa: UP042 - CE's enums are (str, Enum), not StrEnum
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    OTHER = "other"
    INFO = "informational"


class TaskStatus(str, Enum):  # noqa: UP042 - CE's enums are (str, Enum), not StrEnum
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    CLOSED = "closed"
    OTHER = "other"
    DELETED = "deleted"
    NOTIFICATION = "notification"
    FAILED = "failed"


class TaskRequestStatus(str, Enum):  # noqa: UP042 - CE's enums are (str, Enum), not StrEnum
    DECLINED = "declined"
    PENDING = "pending_approval"
    SCHEDULED = "scheduled"
    APPROVED = "approved"
    NOT_REQUIRED = "not_required"


class SyncStatus(str, Enum):  # noqa: UP042 - CE's enums are (str, Enum), not StrEnum
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"


class DataType(str, Enum):  # noqa: UP042 - CE's enums are (str, Enum), not StrEnum
    ALERT = "alert"
    EVENT = "event"


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
    user: str | None = None
    timestamp: datetime
    rawData: dict[str, Any] = Field(default_factory=dict)


class UpdatedTaskValues(BaseModel):
    """What a receiver saw change on its ticket (CE shows old and new values)."""

    status: str | TaskStatus | None = None
    oldStatus: str | TaskStatus | None = None
    assignee: str | None = None
    oldAssignee: str | None = None
    severity: str | Severity | None = None
    oldSeverity: str | Severity | None = None


class Task(BaseModel):
    """A ticket created by a receiver plugin."""

    status: str | TaskStatus | None = None
    approvalStatus: TaskRequestStatus = TaskRequestStatus.NOT_REQUIRED
    severity: str | Severity | None = None
    id: str | None = None
    dedupeCount: int = 0
    link: str = ""
    deletedAt: datetime | None = None
    configuration: str | None = None
    createdAt: datetime | None = None
    businessRule: str | None = None
    dataItem: Alert | Event | None = None
    evaluationResultTime: datetime | None = None
    dataType: DataType | None = DataType.ALERT
    dataSubType: str | None = None
    lastSyncedAt: datetime | None = None
    lastUpdatedAt: datetime | None = None
    updatedValues: UpdatedTaskValues | None = None
    syncStatus: SyncStatus = SyncStatus.PENDING


class FieldMapping(BaseModel):
    """One queue mapping: a receiver field filled from an alert field or a template."""

    extracted_field: str | None = None
    destination_field: str
    custom_message: str = ""


class Queue(BaseModel):
    """A receiver-side queue (ServiceNow group, Jira project and issue type...)."""

    label: str
    value: str
    isDefault: bool = False
    requireApproval: bool = False
    defaultMappings: dict[str, list[FieldMapping]] | None = None


class CustomFieldMapping(BaseModel):
    """One CE value (``name``: "New", "High"...) and the receiver's value for it."""

    name: str
    mapped_value: str = ""
    is_default: bool = False


class CustomFieldsSectionWithMappings(BaseModel):
    """A plugin's default value mappings for one section (status, severity)."""

    section: str
    event_field: str
    field_mappings: list[CustomFieldMapping] = Field(default_factory=list)
    destination_label: str


__all__ = [
    "Alert",
    "CustomFieldMapping",
    "CustomFieldsSectionWithMappings",
    "DataType",
    "Event",
    "FieldMapping",
    "Queue",
    "Severity",
    "SyncStatus",
    "Task",
    "TaskRequestStatus",
    "TaskStatus",
    "UpdatedTaskValues",
]
