# Two commands do everything on a fresh machine:  make run  (the assistant)  ·  make test  (the tests)
# Everything is installed into the project's own virtual environment (.venv): Debian's python3 refuses
# system-wide pip installs, and nothing here needs root except Debian's chromium for the browser tests.
PYTHON3 ?= python3
VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
PIP     := $(PYTHON) -m pip
PORT    ?= 8501
STAMP   := $(VENV)/.installed

.PHONY: run test install index eval bench browser axe clean

$(PYTHON):
	$(PYTHON3) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PYTHON)
	# torch first, pinned: its CPU wheel is on the machine; unpinned it would pull GBs of CUDA.
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[test]"
	@touch $@

install: $(STAMP)

index: $(STAMP)
	$(PYTHON) -m indexer rebuild --kb kb --index index

run: $(STAMP)
	@test -f index/CURRENT || $(PYTHON) -m indexer rebuild --kb kb --index index
	$(PYTHON) -m streamlit run assistant_app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false

browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq npm >/dev/null; }

# axe-core (accessibility checks run inside chromium by tests/test_browser.py), from npm into an ignored folder.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --silent --no-save --no-audit --no-fund --prefix .cache/axe axe-core@4.14.1

axe: $(AXE)

test: $(STAMP) browser axe
	$(PYTHON) -m pytest -q

eval: $(STAMP)
	@test -f index/CURRENT || $(PYTHON) -m indexer rebuild --kb kb --index index
	$(PYTHON) -m indexer eval tests/eval/dev.jsonl tests/eval/dev_extra.jsonl tests/eval/heldout.jsonl tests/eval/heldout_b.jsonl tests/eval/heldout_c.jsonl tests/eval/heldout_d.jsonl tests/eval/heldout_e.jsonl tests/eval/heldout_f.jsonl --mode all --sweep

bench: $(STAMP)
	$(PYTHON) -m indexer bench --kb kb --synthetic 10000

clean:
	rm -rf $(VENV) index .pytest_cache
