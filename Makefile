# boxoffice — the README's commands. `make demo` and `make test` work on a fresh machine with
# Python ≥ 3.11: they create .venv, install the project and start the embedded PostgreSQL.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= medium
SEED   ?= 42

export PLOOMBER_STATS_ENABLED := false  # for `make lab`: JupyterLab loads Ploomber's extension

AS_OF  ?= 2026-10-31
PORT   ?= 8866
# the demo world as a platform's files, for `boxoffice load`
PLATFORM ?= .boxoffice/platform

.PHONY: install system demo test lint format lab dashboards operations doctor db-stop clean

install: $(STAMP)

# Debian packages: chromium prints report.pdf and drives the browser tests; poppler-utils
# (pdftotext, pdftoppm) lets the tests read the PDFs back. Installed with apt-get when missing.
system:
	@missing=""; \
	command -v chromium >/dev/null || missing="chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$${missing:+ }$$missing with apt-get (report.pdf needs Chromium)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install system
	$(BIN)/boxoffice db upgrade
	$(BIN)/boxoffice synth --scale $(SCALE) --seed $(SEED) --to $(PLATFORM)
	$(BIN)/boxoffice load --from $(PLATFORM) --full
	$(BIN)/boxoffice run --as-of $(AS_OF)
	$(BIN)/boxoffice doctor
	@echo
	@echo "Built: the $(SCALE) synthetic world (seed $(SEED)) as a platform's files in"
	@echo "       $(PLATFORM)/, loaded with boxoffice load into the embedded PostgreSQL"
	@echo "       (ground truth: .boxoffice/synth/manifest.json), 14 days of its behaviour"
	@echo "       events ingested from landing/, and its run for $(AS_OF):"
	@echo "       $(CURDIR)/reports/$(AS_OF)/index.html"
	@echo "Next:  make dashboards               # overview, events, customers, pricing (prints the URL)"
	@echo "       make operations               # ingestion: batches, dead letters, reconciliation"
	@echo "       .venv/bin/boxoffice db url    # connect psql or a BI tool"
	@echo "       make lab                      # explore in JupyterLab"
	@echo "       make test                     # run the test suite"

dashboards: install
	BOXOFFICE_TENANT=$${BOXOFFICE_TENANT:-$$($(BIN)/boxoffice tenants --first)} \
	  $(BIN)/boxoffice dashboards --port $(PORT)

operations: install
	$(BIN)/boxoffice dashboards --operations --port $(PORT)

test: install system
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the layers (pyproject.toml, docs/architecture.md)
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

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
