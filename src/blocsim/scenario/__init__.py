"""Scenario files: schema, loading with `extends`, validation errors with file and key path."""

from blocsim.scenario.loading import load
from blocsim.scenario.schema import Scenario

__all__ = ["Scenario", "load"]
