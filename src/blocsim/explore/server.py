"""`blocsim explore FILE`: serve the what-if page on 127.0.0.1 until Ctrl-C.

From Python: `serve("scenarios/baseline.toml", replications=300, open_browser=False)`.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import webbrowser
from pathlib import Path

import panel as pn

from blocsim import api
from blocsim.explore.app import ExploreView
from blocsim.explore.simulator import Simulator

HOST = "127.0.0.1"
"""The only address the server listens on (the page runs simulations for whoever reaches it)."""
DEFAULT_REPLICATIONS = 300
"""Runs per setting: about 1.5 s per re-run on the project's 2-core machine under load."""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def serve(file: str | Path, replications: int = DEFAULT_REPLICATIONS, seed: int | None = None,
          workers: int | None = None, port: int = 0, open_browser: bool = True,
          point: bool = False) -> int:
    """Load the scenario, run it at its own values, then serve the page until interrupted.

    Args:
        file: the scenario file.
        replications: runs per setting (the same for every setting).
        seed: root seed of every run (default: the scenario's own); the same for every setting,
            so changes are paired replication by replication.
        workers: worker processes per run (default: all cores).
        port: the port to listen on (0: a free one).
        open_browser: open the page in the default browser.
        point: run at the file's own (hand-set) weights instead of drawing them from the
            posterior the file names (as `blocsim run` does by default).

    Returns:
        0 once the server has stopped.

    Raises:
        ScenarioError: when the file is not a valid scenario.
        OSError: when the port cannot be bound.

    """
    file = Path(file)
    scenario = api.load(file)
    seed = scenario.scenario.seed if seed is None else seed
    port = port or free_port()
    view: dict = {"scenario": scenario, "file": file}
    previous = signal.getsignal(signal.SIGINT)
    server = pn.serve(lambda: ExploreView(**view).page(), port=port, address=HOST, show=False,
                      start=False, title=f"blocsim explore: {scenario.scenario.name}",
                      verbose=False, websocket_origin=[f"{HOST}:{port}", f"localhost:{port}"])
    # Panel's SIGINT handler now stops the loop: Ctrl-C before it runs makes it stop at once.
    simulator = Simulator(file, replications, seed, workers, point)
    started = False
    try:
        view.update(simulator=simulator, reference=simulator.run({}))
        url = f"http://{HOST}:{port}/"
        print(f"explore {scenario.scenario.name}: {url}  ({replications} replications per "
              f"setting, seed {seed}, {view['reference'].weights}, "
              f"{view['reference'].seconds:.1f} s at the file's values; "
              f"Ctrl-C stops it)", flush=True)
        if open_browser:
            webbrowser.open(url)
        server.start()
        started = True
        server.io_loop.start()  # until Ctrl-C (Panel's handler stops the loop) or SIGTERM
        print("explore: stopped", file=sys.stderr)
    finally:
        if started:
            server.stop()
        else:
            server.unlisten()
        simulator.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
    return 0
