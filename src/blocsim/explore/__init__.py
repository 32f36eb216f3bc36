"""`blocsim explore`: a live what-if view of one scenario in the browser.

Sliders for the pressures and a state's main attributes; each change re-runs the scenario (same
replications, same seed) through the Python API and redraws the probabilities, blockers and
levels beside the file's own; the settings can be saved as a scenario that `extends` the file.
Sits above `blocsim.api` and calls nothing else of blocsim's but the vocabulary and the errors
(an import-linter contract in pyproject.toml).

Why Panel and not Solara (which Mesa's own visualisation uses): the page must work with no
network. Solara 1.64 fetches its front end (the Vuetify app, fonts, require.js) through its
server from a public CDN on first use, and sends telemetry unless told not to; the package that
bundles those files for offline use (solara-assets, 239 MB) lagged behind at 1.58 without the
Vuetify 3 app 5.2.0 that Solara 1.64 asks for, so on this project's machines the page never
loaded. Panel 1.10 serves Bokeh's scripts and plotly.js from the installed packages: the page
loads with no request beyond 127.0.0.1 and no console error (checked in headless Chromium).
"""

from blocsim.explore.server import serve

__all__ = ["serve"]
