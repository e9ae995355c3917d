# boxoffice — the README's commands. `make demo` and `make test` work on a fresh machine with
# Python ≥ 3.11: they create .venv, install the project and start the embedded PostgreSQL.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= medium
SEED   ?= 42

export PLOOMBER_STATS_ENABLED := false

.PHONY: install demo test lint format lab doctor db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/boxoffice db upgrade
	$(BIN)/boxoffice synth --scale $(SCALE) --seed $(SEED)
	$(BIN)/boxoffice doctor
	@echo
	@echo "Built: the $(SCALE) synthetic world (seed $(SEED)) in the embedded PostgreSQL,"
	@echo "       ground truth in .boxoffice/synth/manifest.json"
	@echo "Next:  $(BIN)/boxoffice db url      # connect psql or a BI tool"
	@echo "       make lab                     # explore in JupyterLab"
	@echo "       make test                    # run the test suite"

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lab: install
	$(BIN)/jupyter lab

doctor: install
	$(BIN)/boxoffice doctor

db-stop: install
	$(BIN)/boxoffice db stop

clean: db-stop
	rm -rf .boxoffice reports
