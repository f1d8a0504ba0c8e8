"""The local stand-in for CE's alert collection: alerts upserted by ``id`` into SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    configuration TEXT,
    alertName TEXT NOT NULL,
    alertType TEXT NOT NULL,
    type TEXT NOT NULL,
    app TEXT,
    appCategory TEXT,
    user TEXT,
    timestamp TEXT NOT NULL,
    rawData TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    times_pulled INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int


class AlertStore:
    """CE upserts every pulled alert by id (across configurations); so does this store."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute(_SCHEMA)
        self._db.commit()

    def upsert(self, alerts: Iterable[Any], configuration: str | None) -> UpsertResult:
        now = datetime.now(UTC).isoformat()
        inserted = updated = 0
        for alert in alerts:
            row = alert.model_dump(mode="json")
            exists = self._db.execute("SELECT 1 FROM alerts WHERE id = ?", (row["id"],)).fetchone()
            values = (
                configuration,
                row["alertName"],
                row["alertType"],
                row["type"],
                row.get("app"),
                row.get("appCategory"),
                row.get("user"),
                row["timestamp"],
                json.dumps(row.get("rawData") or {}, sort_keys=True),
            )
            if exists:
                self._db.execute(
                    "UPDATE alerts SET configuration=?, alertName=?, alertType=?, type=?, app=?, "
                    "appCategory=?, user=?, timestamp=?, rawData=?, last_seen=?, "
                    "times_pulled=times_pulled+1 WHERE id=?",
                    (*values, now, row["id"]),
                )
                updated += 1
            else:
                self._db.execute(
                    "INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1)",
                    (row["id"], *values, now, now),
                )
                inserted += 1
        self._db.commit()
        return UpsertResult(inserted, updated)

    def all(self) -> list[dict[str, Any]]:
        cursor = self._db.execute("SELECT * FROM alerts ORDER BY timestamp, id")
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        for row in rows:
            row["rawData"] = json.loads(row["rawData"])
        return rows

    def close(self) -> None:
        self._db.close()
