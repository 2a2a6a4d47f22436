# Lagebild — the two commands a new machine needs: `make demo` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
SHARED  ?= ../shared
EXAMPLE ?= examples/beispiel_grenzkonflikt.txt
export OMP_NUM_THREADS ?= 1

.PHONY: install demo test lint bench eval models train-ner train-tagger train-parser train-attribution clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/lagebild analyze $(EXAMPLE) --published 2026-03-04 --format text

lint: install
	$(BIN)/ruff check src tests training benchmarks

test: install lint
	$(BIN)/python -m pytest -q -ra

eval: install
	$(BIN)/lagebild eval $(SHARED)/gold --quotes $(SHARED)/data/quotes_wikinews/dev --save training/results/eval.json
	$(BIN)/python training/report.py > /dev/null

bench: install
	$(BIN)/python benchmarks/bench.py --shared $(SHARED) --out benchmarks/results.json
	$(BIN)/python benchmarks/bench_corpus.py --shared $(SHARED)
	$(BIN)/python benchmarks/bench_web.py --shared $(SHARED)
	$(BIN)/python benchmarks/bench_batch.py --shared $(SHARED)

# Rebuild every shipped model from ../shared/data (hours on one core; CI does not run these:
# it loads the committed models and checks their scores on slices).
$(VENV)/.installed-train: pyproject.toml | $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[train]"
	touch $@

train-ner: install $(VENV)/.installed-train
	$(BIN)/python training/ner/run.py

train-tagger: install
	$(BIN)/python training/morph/run.py

train-parser: install
	$(BIN)/python training/parser/run.py

train-attribution: install
	$(BIN)/python training/attribution/train_crf.py

models: train-ner train-tagger train-parser train-attribution

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
