"""Connecting to a Dask scheduler without hanging: addresses checked, silence timed out.

`distributed.Client(address, timeout=...)` bounds the TCP connection but not the handshake that
follows, so a server that accepts connections and never answers (a stuck scheduler, another
program on the port) hangs it forever. Here the address is checked first, the scheduler must
speak within `CONNECT_SECONDS` of the connection, and the whole connection has a deadline.
"""

from __future__ import annotations

import re
import socket
import threading
from typing import Any

from blocsim.errors import BlocsimError, printable

CONNECT_SECONDS = 10.0
"""How long a scheduler has to accept the connection and to answer its handshake."""
WORKERS_SECONDS = 30.0
"""How long a scheduler without workers is given to get one before the sweep gives up."""
ADDRESS = re.compile(r"^(?P<scheme>tcp|tls)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)"
                     r":(?P<port>\d{1,5})$")


def parse_scheduler_address(address: str) -> tuple[str, str, int]:
    """Return (scheme, host, port) of `tcp://HOST:PORT` or `tls://HOST:PORT`; else a clear error."""
    match = ADDRESS.fullmatch(address.strip())
    port = int(match["port"]) if match else 0
    if match is None or not 0 < port < 65536:
        raise BlocsimError(f"--dask: expected `local` or a scheduler address such as "
                           f"tcp://127.0.0.1:8786 (tcp:// or tls://, a host and a port "
                           f"1-65535), found {printable(repr(address))}")
    return match["scheme"], match["host"].strip("[]"), port


def probe(host: str, port: int, seconds: float) -> None:
    """Check that something listens at host:port and speaks first, as a Dask scheduler does.

    A scheduler sends its handshake as soon as it accepts a connection; silence for `seconds`
    means no scheduler is answering there.
    """
    where = f"{host}:{port}"
    try:
        connection = socket.create_connection((host, port), timeout=seconds)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BlocsimError(f"cannot reach the Dask scheduler at {where}: {reason}") from None
    with connection:
        connection.settimeout(seconds)
        try:
            first = connection.recv(1)
        except TimeoutError:
            raise BlocsimError(f"the server at {where} accepts connections but has not answered "
                               f"in {seconds:g} s: it is not a Dask scheduler, or it is stuck"
                               ) from None
        except OSError as error:
            raise BlocsimError(f"cannot reach the Dask scheduler at {where}: "
                               f"{error.strerror or error}") from None
    if not first:
        raise BlocsimError(f"the server at {where} closed the connection without answering: "
                           f"it is not a Dask scheduler")


def connect_client(address: str, seconds: float | None = None) -> Any:
    """A `distributed.Client` of the scheduler at `address`, or a BlocsimError within a deadline.

    `seconds` defaults to CONNECT_SECONDS. Also waits up to WORKERS_SECONDS for the scheduler to
    have a worker: tasks sent to a scheduler without workers would wait forever.
    """
    from distributed import Client

    seconds = CONNECT_SECONDS if seconds is None else seconds
    scheme, host, port = parse_scheduler_address(address)
    if scheme == "tcp":
        probe(host, port, seconds)
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = Client(address, timeout=f"{seconds}s")
        except Exception as error:  # noqa: BLE001 - reported below as a message
            outcome["error"] = error

    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(3 * seconds)
    if thread.is_alive():
        raise BlocsimError(f"the Dask scheduler at {address} did not complete the connection in "
                           f"{3 * seconds:g} s; giving up")
    if "error" in outcome:
        error = outcome["error"]
        raise BlocsimError(f"cannot reach the Dask scheduler at {address}: "
                           f"{printable(str(error)) or type(error).__name__}") from None
    client = outcome["client"]
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except Exception:  # noqa: BLE001 - a timeout, in whatever form this version raises it
        client.close()
        raise BlocsimError(f"the Dask scheduler at {address} has no workers (none joined in "
                           f"{WORKERS_SECONDS:g} s); start some with `dask worker {address}`"
                           ) from None
    return client
