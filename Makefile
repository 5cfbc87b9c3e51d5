# Two commands on a fresh clone (each creates .venv if it is missing):
#   make run   - install, then run the main job (agent search, offline policy, no API key)
#   make test  - install, then run the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint slow clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/agentnas run --space nb201 --dataset cifar10 --hardware hwnasbench:fpga --rounds 10 --budget 100

test: $(STAMP)
	$(BIN)/pytest -q -n 2

slow: $(STAMP)
	$(BIN)/pytest -q -n 2 -m slow

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
