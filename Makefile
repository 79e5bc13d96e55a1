# Two commands on a fresh machine with Python >= 3.11:
#   make demo   # the demo: simulated reasoning backend + real LiteLLM proxy with thinkbudget
#   make test   # lint, types and the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: demo test lint bench storm install clean real-engine-setup real-engine train multi-proxy

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/thinkbudget-litellm demo

lint: $(STAMP)
	$(VENV)/bin/ruff check thinkbudget_litellm tests benchmarks
	$(VENV)/bin/mypy

# The real-engine and multi-proxy tiers run after the rest, each alone: the first times a real vLLM
# against the proxy, the second adds up three proxies' books against one meter, and a proxy starved
# of CPU by the other tiers (2 cores, the other worker's stacks) reads its engine seconds late.
test: lint
	$(PY) -m pytest -q -n 2 --dist loadgroup --ignore=tests/real_engine --ignore=tests/multi_proxy; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; \
	$(PY) -m pytest -q tests/multi_proxy; rc2=$$?; \
	$(PY) -m pytest -q tests/real_engine; rc3=$$?; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; if [ $$rc2 -ne 0 ]; then exit $$rc2; fi; exit $$rc3

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# 1,500 streams through the real proxy, 70% of clients leaving at random points: one record each
storm: $(STAMP)
	THINKBUDGET_STORM_STREAMS=1500 $(PY) -m pytest -q -s tests/adversarial/test_lifecycle.py -k storm

# The real-engine tier (tests/real_engine): a real vLLM (CPU build) in a cached virtualenv outside the
# checkout, a tiny model built from nothing; the set-up is done once per machine (~2 min, then ~0 s).
real-engine-setup:
	bash scripts/real_vllm/setup.sh

real-engine: $(STAMP)
	$(PY) -m pytest -q tests/real_engine

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Refit the classifier's learned stage from benchmarks/datasets (never its frozen test split)
train: $(STAMP)
	$(PY) benchmarks/train_classifier.py

# Issue 15's acceptance test with its figures printed (also part of `make test`): one engine, Redis, Postgres, 2 then 3
# proxies; energy and GPU-seconds within 2% of the meter (README "More than one proxy")
multi-proxy: $(STAMP)
	$(PY) -m pytest -q -s tests/multi_proxy
