"""Small network probes: is a port taken, who holds it, does an HTTP endpoint answer."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from typing import Any

LOOPBACK = "127.0.0.1"


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_bindable(port: int, host: str = LOOPBACK) -> bool:
    """True when a new listener could bind host:port (catches listeners on 0.0.0.0 too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def listener_pids(port: int) -> list[int]:
    """Pids listening on a TCP port, from `ss` when it is installed (empty when unknown)."""
    ss = shutil.which("ss")
    if ss is None:
        return []
    try:
        out = subprocess.run(
            [ss, "-Htlnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({int(pid) for pid in re.findall(r"pid=(\d+)", out)})


def http_json(url: str, timeout: float = 2.0) -> Any:
    """GET a JSON document; None when the endpoint does not answer with 2xx JSON."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except (OSError, urllib.error.URLError, ValueError):
        return None


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status code of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, urllib.error.URLError, ValueError):
        return None


def redis_ping(port: int, host: str = LOOPBACK, timeout: float = 1.0) -> bool:
    """Speak just enough RESP to see a PONG, so the probe needs no client library."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    # -NOAUTH also proves Redis is up when a password is configured.
    return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
