"""Who holds a digest claim or a feed lease, and whether that holder can still be alive."""

from __future__ import annotations

import os
import socket
import uuid


def _pid_namespace() -> str:
    """The PID namespace (Linux), so containers sharing a hostname are told apart."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def new_owner() -> str:
    """A claim owner id: host, PID namespace, PID and a token unique to this service object."""
    return f"{socket.gethostname()}|{_pid_namespace()}|{os.getpid()}|{uuid.uuid4().hex[:12]}"


def known_dead(owner: str | None) -> bool:
    """Whether the owner was a process on this host (same PID namespace) that no longer exists.

    False when unsure (another host or container, our own process, unparsable id): such a claim
    is only taken over once its lease has expired.
    """
    if not owner:
        return False
    parts = owner.split("|")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, namespace, pid_text, _ = parts
    if host != socket.gethostname() or namespace != _pid_namespace():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        return False
    return False
