"""`blocsim explore`: a live what-if view of one scenario in the browser.

Sliders for the pressures and a state's main attributes; each change re-runs the scenario (same
replications, same seed) through the Python API and redraws the probabilities, blockers and
levels beside the file's own; the settings can be saved as a scenario that `extends` the file.
Sits above `blocsim.api` and calls nothing else of blocsim's but the vocabulary and the errors.
"""

from blocsim.explore.server import serve

__all__ = ["serve"]
