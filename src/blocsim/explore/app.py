"""The what-if page: sliders for the pressures and one state's attributes, re-run on release.

Built with Panel (HoloViz), which serves every script the page needs (Bokeh's, plotly.js) from
the installed packages, so the page works with no network. One `ExploreView` per browser tab;
all tabs share the `Simulator` and its cache. A slider acts when released: the view asks for a
run at the current settings, and if settings change while it runs, runs again with the latest.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import panel as pn
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, StrictUndefined

from blocsim.api import Scenario
from blocsim.explore.inputs import Input, pressure_inputs, state_inputs, state_names
from blocsim.explore.readout import Run, readout
from blocsim.explore.simulator import SimulationError, Simulator
from blocsim.explore.variant import Change, VariantError, save_variant

TEMPLATES = Environment(loader=PackageLoader("blocsim.explore"), autoescape=True,
                        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
STEP = 0.01
"""Slider resolution: the values a slider can take are multiples of this."""
SIDEBAR_WIDTH = 380
MESSAGE = '<p class="save-message {{ kind }}">{{ text }}</p>'
BAR_COLOUR = "#4c72b0"
FILE_COLOUR = "#dd8452"


STYLE = (Path(__file__).parent / "templates" / "style.css").read_text(encoding="utf-8")


def html(text: str = "", **options: object) -> pn.pane.HTML:
    """An HTML pane with the page's style sheet (each pane has a shadow root of its own)."""
    return pn.pane.HTML(text, stylesheets=[STYLE], **options)


def render(template: str, **values: object) -> str:
    """Render one of the package's templates (HTML escaped by default)."""
    return TEMPLATES.get_template(template).render(**values)


def render_string(template: str, **values: object) -> str:
    """Render a one-line template given as a string (HTML escaped by default)."""
    return TEMPLATES.from_string(template).render(**values)


def default_state(scenario: Scenario, reference: Run) -> str:
    """The state shown first: the most frequent blocker of the first grouping that has one."""
    for blocker in reference.summary["top_blocker"]:
        if isinstance(blocker, str) and blocker in scenario.raw["states"]:
            return blocker
    return next(iter(scenario.raw["states"]))


def probability_ceiling(table) -> float:
    """The top of the probability axis: room for every interval, in steps of 0.2, at most 1."""
    highest = max(table["ci_high"].max(), table["reference_probability"].max())
    return min(1.0, 0.2 * math.ceil((highest + 0.02) / 0.2))


def probability_figure(table) -> go.Figure:
    """Bars of P(consolidation) with 95% intervals; the file's own probability as a diamond."""
    figure = go.Figure()
    figure.add_bar(x=table["grouping"], y=table["probability"], name="current settings",
                   marker_color=BAR_COLOUR,
                   error_y={"type": "data", "symmetric": False,
                            "array": table["ci_high"] - table["probability"],
                            "arrayminus": table["probability"] - table["ci_low"]},
                   hovertemplate="%{x}: P = %{y:.3f}<extra>current settings</extra>")
    figure.add_scatter(x=table["grouping"], y=table["reference_probability"], mode="markers",
                       name="the file's own values", marker={"symbol": "diamond", "size": 11,
                                                               "color": FILE_COLOUR},
                       hovertemplate="%{x}: P = %{y:.3f}<extra>the file's own values</extra>")
    figure.update_layout(title="Probability of consolidation (95% interval)",
                         yaxis={"range": [0, probability_ceiling(table)],
                                "title": "P(consolidate)"},
                         height=360, margin={"l": 60, "r": 20, "t": 50, "b": 40},
                         legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
                         template="plotly_white")
    return figure


class ExploreView:
    """One browser tab's page: the sliders, the readout and the save form."""

    def __init__(self, scenario: Scenario, file: Path, simulator: Simulator,
                 reference: Run) -> None:
        self.scenario, self.file, self.simulator, self.reference = (scenario, file, simulator,
                                                                    reference)
        self.changes: dict[str, float] = {}
        self.typed_sources: dict[str, str] = {}
        self.inputs: dict[str, Input] = {}
        self._wanted = self._done = 0
        self._busy = self._syncing = False
        self.status = html(sizing_mode="stretch_width")
        self.chart = pn.pane.Plotly(sizing_mode="stretch_width", config={"displaylogo": False})
        self.table = html(sizing_mode="stretch_width")
        self.save_form = pn.Column(sizing_mode="stretch_width")
        self.save_message = html()
        self.pressure_sliders = [self._slider(i) for i in pressure_inputs(scenario)]
        names = state_names(scenario)
        self.state = pn.widgets.Select(name="State", value=default_state(scenario, reference),
                                       options={label: code for code, label in names.items()})
        self.state_box = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda _: self._show_state(), "value")
        self._show_state()
        self.name = pn.widgets.TextInput(name="Scenario name",
                                         value=f"{scenario.scenario.name}_whatif")
        self.description = pn.widgets.TextInput(name="Description (optional)")
        self.target = pn.widgets.TextInput(name="File to write",
                                           value=str(file.with_name(f"{self.name.value}.toml")))
        self.save_button = pn.widgets.Button(name="Save as scenario", button_type="primary")
        self.save_button.on_click(lambda _: self.save())
        self.reset_button = pn.widgets.Button(name="Back to the file's values")
        self.reset_button.on_click(self._reset)
        self._show(reference)
        self._update_save_form()

    def _slider(self, item: Input) -> pn.Column:
        """A slider for one input, with its meaning, note and source beneath it."""
        self.inputs[item.path] = item
        slider = pn.widgets.FloatSlider(name=item.label, start=0.0, end=1.0, step=STEP,
                                        value=self.changes.get(item.path, item.value),
                                        disabled=not item.movable, format="0.00",
                                        sizing_mode="stretch_width", tags=[item.path])
        slider.param.watch(self._moved, "value_throttled")
        note = html(render("input.html", meaning=item.meaning, note=item.note, value=item.value,
                           ground=item.ground, source=item.source),
                    sizing_mode="stretch_width", margin=(0, 10, 8, 10))
        return pn.Column(slider, note, sizing_mode="stretch_width")

    def _show_state(self) -> None:
        """Sliders for the chosen state's attributes, at their current settings."""
        self._syncing = True
        try:
            items = state_inputs(self.scenario, self.state.value)
            source = html(render("state_source.html", source=items[0].source),
                          sizing_mode="stretch_width", margin=(0, 10, 8, 10))
            self.state_box.objects = [source, *(self._slider(i) for i in items)]
        finally:
            self._syncing = False

    async def _moved(self, event) -> None:
        """A slider was released: record the change (or its undoing) and run again."""
        if self._syncing:
            return
        path = event.obj.tags[0]
        value = round(float(event.new), 4)
        if abs(value - self.inputs[path].value) < STEP / 2:
            self.changes.pop(path, None)
        else:
            self.changes[path] = value
        self._update_save_form()
        await self.refresh()

    async def _reset(self, _event: object = None) -> None:
        """Every slider back to the file's value; run (the cached run at the file's values)."""
        self.changes.clear()
        self._syncing = True
        try:
            for column in self.pressure_sliders:
                slider = column[0]
                slider.value = self.inputs[slider.tags[0]].value
            self._show_state()
        finally:
            self._syncing = False
        self._update_save_form()
        await self.refresh()

    async def refresh(self) -> None:
        """Run the current settings; if they change during the run, run the latest again."""
        self._wanted += 1
        if self._busy:
            return
        self._busy = True
        try:
            while self._done != self._wanted:
                target, values = self._wanted, dict(self.changes)
                self.status.object = render("status.html", state="running",
                                            replications=self.simulator.replications)
                self.chart.loading = True
                try:
                    run = await asyncio.get_running_loop().run_in_executor(
                        None, self.simulator.run, values)
                except SimulationError as error:
                    self.status.object = render("status.html", state="error",
                                                message=str(error))
                else:
                    if target == self._wanted:
                        self._show(run)
                finally:
                    self.chart.loading = False
                self._done = target
        finally:
            self._busy = False

    def _show(self, run: Run) -> None:
        """Draw a run: status line, probability bars and the readout table."""
        table = readout(self.reference, run)
        self.chart.object = probability_figure(table)
        self.table.object = render("readout.html", rows=table.to_dict("records"),
                                   replications=self.simulator.replications,
                                   seed=self.simulator.seed)
        self.status.object = render("status.html", state="done",
                                    replications=self.simulator.replications,
                                    seed=self.simulator.seed, seconds=run.seconds,
                                    weights=run.weights,
                                    changes=len(self.changes), file=self.file.name)

    def _update_save_form(self) -> None:
        """One source box per changed value (what was typed is kept), then the save fields."""
        rows: list = []
        for path, value in sorted(self.changes.items()):
            before = self.inputs[path].value
            box = pn.widgets.TextAreaInput(
                name=f"Source for {path} = {value:g} (file: {before:g})",
                value=self.typed_sources.get(path, ""), placeholder="the ground for the new "
                "value: a passage, a figure, or 'assumption: ...'", rows=2,
                sizing_mode="stretch_width", tags=[path])
            box.param.watch(self._typed, "value_input")
            rows.append(box)
        if not rows:
            rows.append(html("<p>Move a slider: each changed value will need a source before it "
                             "can be saved.</p>"))
        self.save_form.objects = [*rows, self.name, self.description, self.target,
                                  self.save_button, self.save_message]

    def _typed(self, event) -> None:
        """Keep what the user typed as the source of a changed value."""
        self.typed_sources[event.obj.tags[0]] = event.new

    def save(self) -> Path | None:
        """Write the current settings as a scenario that extends the file; say what happened."""
        changes = [Change(path, self.inputs[path].value, value,
                          self.typed_sources.get(path, ""))
                   for path, value in sorted(self.changes.items())]
        own = {c.owner: self.inputs[c.path].source for c in changes}
        try:
            written = save_variant(self.file, Path(self.target.value), self.name.value.strip(),
                                   changes, own, self.description.value.strip())
        except VariantError as error:
            self.save_message.object = render_string(MESSAGE, kind="error", text=str(error))
            return None
        self.save_message.object = render_string(
            MESSAGE, kind="ok", text=f"Saved {written}; run it with: blocsim run {written}")
        return written

    def page(self) -> pn.viewable.Viewable:
        """The whole page."""
        sidebar = pn.Column(
            html("<h3>Pressures</h3>"), *self.pressure_sliders,
            html("<h3>A state</h3>"), self.state, self.state_box, self.reset_button,
            width=SIDEBAR_WIDTH, scroll=True, height=900)
        meta = self.scenario.scenario
        header = html(render("header.html", name=meta.name, description=meta.description,
                             file=self.file), sizing_mode="stretch_width")
        main = pn.Column(header, self.status, self.chart, self.table,
                         html("<h3>Save as scenario</h3>"), self.save_form,
                         sizing_mode="stretch_width")
        return pn.Row(sidebar, main, sizing_mode="stretch_width")
