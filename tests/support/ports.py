"""Free TCP ports for services started by the test suite.

Mosquitto 2.0 will not listen on port 0, so the suite asks the kernel for a free port, releases it
and hands the number to the service. Another process can take the port in between; the service
helpers detect a failed bind and retry on a new port.
"""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def accepts_connections(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts a TCP connection on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
