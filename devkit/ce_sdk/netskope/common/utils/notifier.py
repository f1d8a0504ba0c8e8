"""CE's notifier: banner notifications shown in the UI (``info``/``warn``/``error``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Notification:
    level: str
    message: str
    id: str | None = None


@dataclass
class Notifier:
    """Records each notification; CE shows them as banners until acknowledged."""

    notifications: list[Notification] = field(default_factory=list)

    def info(self, message: str, id: str | None = None) -> None:
        self.notifications.append(Notification("info", str(message), id))

    def warn(self, message: str, id: str | None = None) -> None:
        self.notifications.append(Notification("warn", str(message), id))

    def error(self, message: str, id: str | None = None) -> None:
        self.notifications.append(Notification("error", str(message), id))

    def clear(self) -> None:
        self.notifications.clear()


# CE's notifier is one object shared by everything in the process.
notifier = Notifier()
