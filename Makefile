# The two commands of the README: `make run` and `make test`. Both create the virtual
# environment (Python 3.12, chosen by .python-version through pyenv) and install on first use.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test test-fast lint bench bench-sweep bench-sweep-scale bench-dask bench-states \
	bench-tipping bench-prim-ema claims calibrate clean

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

# The calibration on the record (ABC-SMC; about 9 minutes of fitting on two cores) into
# results/calibration_record, and the seeds' claims re-measured on the calibrated baseline.
calibrate: $(STAMP)
	$(BIN)/blocsim calibrate scenarios/calibration/record.toml --out results/calibration_record

claims: $(STAMP)
	$(BIN)/python benchmarks/claims.py

# Issue 12's benchmarks (figures in benchmarks/README.md); run them on an idle machine.
# A lone replication and its breakdown, batches, 1,000 replications on 1 and 2 workers (~1 min).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py

# 2,000 runs as an LHS (2,000 points x 1) against 1 point x 2,000, then against mesa.batch_run and
# EMA Workbench on the same design (EMA in benchmarks/.venv-ema, made on first use); ~6 min.
bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py compare --runs 2000

# A 100,000-run LHS of the ten pressures against a 10,000-run one: wall time, peak memory (~4 min).
bench-sweep-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py scale --runs 10000 100000

# A 20,000-run LHS on a Dask LocalCluster and on local processes, each timed, then sampled for
# memory, then in one process, in three interleaved rounds: speedup efficiency (~8 min).
bench-dask: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py dask --runs 20000

# Synthetic scenarios of 23 to 200 states and 30 groupings: seconds per replication (~3 min).
bench-states: $(STAMP)
	$(BIN)/python benchmarks/bench_states.py

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
