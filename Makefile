# Two commands on a fresh clone (each creates .venv if it is missing):
#   make run   - install, then run the main job (agent search, offline policy, no API key)
#   make test  - install, then run the test suite
#   make bench - the README's headline table (agent vs random/RE/NSGA-II, 4 devices)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint slow bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip uninstall --quiet --yes xgboost 2>/dev/null || true  # replaced by xgboost-cpu
	$(BIN)/pip install --quiet -e ".[dev,ray]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/agentnas run --space nb201 --dataset cifar10 --hardware hwnasbench:fpga --rounds 10 --budget 100

test: $(STAMP)
	$(BIN)/pytest -q -n 2

slow: $(STAMP)
	$(BIN)/pytest -q -n 2 -m slow

# < 20 min on 2 cores; the README section is rewritten from its output
bench: $(STAMP)
	$(BIN)/agentnas bench search --devices eyeriss,fpga,pixel3,raspi4 --budgets 100 --seeds 5 \
		--methods agent,random,re,nsga2,nsga2@500 --out bench-search
	$(BIN)/agentnas bench readme bench-search --readme README.md

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
