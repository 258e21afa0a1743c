# The README's commands. Each target sets up what it needs itself.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit docs bench clean help

help:
	@echo "make demo   - start broker, ground, spacecraft mock and dashboard (Ctrl-C stops all)"
	@echo "make test   - lint, type-check and run the whole test suite"
	@echo "make bench  - run every benchmark and rewrite docs/performance.md"
	@echo "make docs   - regenerate docs/icd.md from the mission database"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lupex demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict mission mqtt_io ground spacecraft_mock dashboard lupex tests bench

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not e2e"

test: lint typecheck
	$(BIN)/python -m pytest

docs: $(STAMP)
	$(BIN)/lupex mdb docs

bench: $(STAMP)
	$(BIN)/lupex bench run all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
