"""`blocsim explore` in a real browser: move a slider, see the probability change, save.

The server runs as the user would start it (`blocsim explore FILE --no-browser --port P`), in a
subprocess, on a small number of replications so each re-run is quick.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import blocsim
from blocsim.explore.server import free_port
from tests.conftest import BASELINE, ROOT, copy_baseline, interruptible

REPLICATIONS = 60
STARTUP_SECONDS = 90
RUN_SECONDS = 60


class Server:
    """A `blocsim explore` subprocess and what it printed."""

    def __init__(self, file: Path, port: int, point: bool = False) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "blocsim.cli", "explore", str(file), "--no-browser",
             "--port", str(port), "--replications", str(REPLICATIONS), "--workers", "1",
             *(["--point"] if point else [])],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=interruptible)
        self.output: list[str] = []
        self.errors: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read, args=(self.process.stdout, self.output),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr, self.errors),
                         daemon=True).start()

    def _read(self, stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)
            if self.url in line:
                self._ready.set()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"explore did not start: {''.join(self.errors)}")

    def children(self) -> list[int]:
        """The pids of the server's child processes (the helper that runs the simulations)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextmanager
def explore(file: Path = BASELINE, point: bool = False) -> Iterator[Server]:
    """The view of `file`; `point`: at its hand-set weights, where the baseline's probabilities
    move with a slider (under the posterior they all stay at 0)."""
    server = Server(file, free_port(), point)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def open_view(browser, server: Server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error"
            else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server.url)
    page.wait_for_selector("tr[data-grouping] .probability", timeout=RUN_SECONDS * 1000)
    return page, errors, requests


def probabilities(page) -> dict[str, str]:
    rows = page.locator("tr[data-grouping]")
    return {rows.nth(i).get_attribute("data-grouping"):
            rows.nth(i).locator(".probability").inner_text() for i in range(rows.count())}


def move_to_maximum(page, label: str) -> None:
    """Focus a slider's handle and press End, as a keyboard user would; wait for the re-run."""
    slider = page.locator(".bk-Slider", has_text=label)
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("End")
    page.wait_for_selector("text=value(s) changed", timeout=RUN_SECONDS * 1000)


def only_local(requests: list[str], port: int) -> list[str]:
    allowed = (f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/",
               f"blob:http://127.0.0.1:{port}/", "data:")
    return [url for url in requests if not url.startswith(allowed)]


def test_moving_a_slider_changes_the_displayed_probability(browser, tmp_path: Path):
    with explore(point=True) as server:
        page, errors, requests = open_view(browser, server)
        page.screenshot(path=str(tmp_path / "explore_before.png"), full_page=True)
        before = probabilities(page)
        move_to_maximum(page, "China assertiveness")
        after = probabilities(page)
        page.screenshot(path=str(tmp_path / "explore_after.png"), full_page=True)
        assert set(before) == set(blocsim.load(BASELINE).groupings)
        assert before != after, f"no probability moved: {after}"
        assert page.locator(".bk-slider-title", has_text="China assertiveness").inner_text() \
            == "China assertiveness: 1.00"
        assert "the file's own weights" in page.locator(".status").inner_text()
        assert errors == []
        assert only_local(requests, server.port) == []


def test_the_view_draws_its_weights_from_the_posterior_as_run_does(browser):
    with explore() as server:
        page, errors, _ = open_view(browser, server)
        assert "weights drawn from record_posterior.parquet" in \
            page.locator(".status").inner_text()
        assert "weights drawn from record_posterior.parquet" in "".join(server.output)
        assert errors == []


def test_the_settings_are_saved_as_a_scenario_that_validates(browser, tmp_path: Path):
    original = copy_baseline(tmp_path)
    target = tmp_path / "hawkish.toml"
    with explore(original) as server:
        page, errors, _ = open_view(browser, server)
        move_to_maximum(page, "China assertiveness")
        save = page.get_by_role("button", name="Save as scenario")
        save.click()
        page.wait_for_selector("text=give a source for each changed value")
        assert not target.exists()
        page.locator("textarea").fill("a Taiwan Strait crisis in 2027 (assumption)")
        page.get_by_label("File to write").fill(str(target))
        page.keyboard.press("Tab")
        save.click()
        page.wait_for_selector("text=Saved", timeout=30_000)
        page.screenshot(path=str(tmp_path / "explore_saved.png"), full_page=True)
        assert errors == []
    variant = blocsim.load(target)
    assert variant.pressures["china_assertiveness"].end == 1.0
    assert "a Taiwan Strait crisis in 2027 (assumption)" in (
        variant.pressures["china_assertiveness"].source)
    assert 'extends = "baseline.toml"' in target.read_text()


@pytest.mark.slow
def test_ctrl_c_stops_the_server_and_its_helper_process():
    server = Server(BASELINE, free_port())
    server.wait_ready()
    helpers = server.children()
    assert server.stop() == 0
    assert "explore: stopped" in "".join(server.errors)
    deadline = time.monotonic() + 10
    while [pid for pid in helpers if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert helpers and not [pid for pid in helpers if alive(pid)]


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended but not yet reaped by init, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
