"""One tray per user: a lock file decides, a local socket carries "show your card" from a
second launch to the running one.

QLockFile notices a lock left by a crashed tray (its process is gone) and takes it over; the
socket name is derived from the state folder, so separate homes (tests, CODEXBAR_HOME) never
see each other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

LOCK_NAME = "tray.lock"
SHOW = b"show\n"


def socket_name(state: Path) -> str:
    digest = hashlib.sha256(str(state.resolve()).encode()).hexdigest()[:16]
    return f"codexbar-tray-{digest}"


class SingleInstance(QObject):
    activated = Signal()  # a second launch asked us to show the card

    def __init__(self, state: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from codexbar.paths import ensure_private_dir, state_dir

        self.state = ensure_private_dir(state or state_dir())
        self.lock_path = self.state / LOCK_NAME
        self.name = socket_name(self.state)
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True when we are the only tray; False after telling the running one to show up."""
        if not self._lock.tryLock(0):
            self._ping()
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(self.name)  # a crashed tray's socket file; we hold the lock
        if server.listen(self.name):
            server.newConnection.connect(self._accept)
            self._server = server
        return True

    def holder_pid(self) -> int | None:
        """The running tray's process id, from the lock file."""
        pid, _host, _app = self._lock.getLockInfo()
        return int(pid) or None

    def release(self) -> None:
        if self._server is not None:
            for connection in self._server.findChildren(QLocalSocket):
                connection.abort()
                connection.deleteLater()
            self._server.close()
            self._server.deleteLater()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    def _ping(self) -> None:
        client = QLocalSocket()
        client.connectToServer(self.name)
        if client.waitForConnected(1000):
            client.write(SHOW)
            client.flush()
            client.waitForBytesWritten(1000)
            client.disconnectFromServer()

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            connection = self._server.nextPendingConnection()
            if connection is None:
                break
            connection.readyRead.connect(self._read)
            connection.disconnected.connect(connection.deleteLater)

    def _read(self) -> None:
        connection = self.sender()
        if isinstance(connection, QLocalSocket) and bytes(connection.readAll().data()).startswith(
            SHOW.strip()
        ):
            self.activated.emit()
