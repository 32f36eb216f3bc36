# The two commands of the README: `make run` and `make test`. Both create the virtual
# environment (Python 3.12, chosen by .python-version through pyenv) and install on first use.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test test-fast lint bench bench-sweep bench-tipping bench-prim-ema claims calibrate clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "blocsim needs Python 3.12+: install it (pyenv install 3.12) and retry")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/blocsim run scenarios/baseline.toml --out results/baseline --overwrite

test: $(STAMP)
	@sh scripts/ensure_chromium.sh
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# The development lane: unit and property tests, no browser, no cluster, no slow statistics.
test-fast: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "not slow and not browser and not cluster"

# The calibration on the record (ABC-SMC; about half an hour on two cores) into
# results/calibration_record, and the seeds' claims re-measured on the calibrated baseline.
calibrate: $(STAMP)
	$(BIN)/blocsim calibrate scenarios/calibration/record.toml --out results/calibration_record

claims: $(STAMP)
	$(BIN)/python benchmarks/claims.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py

bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py --points 20 --replications 100

bench-tipping: $(STAMP)
	$(BIN)/python benchmarks/bench_tipping.py

# blocsim's PRIM against EMA Workbench 3.0's: EMA goes into its own venv (benchmarks/.venv-ema,
# created on first use), never into blocsim's. Needs the lhs sweep (made here if absent).
bench-prim-ema: $(STAMP)
	@test -f results/pressures_lhs/manifest.json || \
		$(BIN)/blocsim sweep scenarios/sweeps/pressures_lhs.toml --out results/pressures_lhs
	$(BIN)/python benchmarks/bench_prim_ema.py --sweep results/pressures_lhs --seeds 30

clean:
	rm -rf $(VENV) benchmarks/.venv-ema .pytest_cache .ruff_cache .hypothesis
