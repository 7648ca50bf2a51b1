# inspect_kit: the two commands are `make run` and `make test`.
#
#   make run     create .venv, install, create the demo review if the store is
#                empty, serve on http://127.0.0.1:$(PORT)
#   make test    create .venv, install test dependencies, Chromium and wrk, run pytest
#                on every core
#   make lint    ruff
#   make bench   run every bench/*.py script
#
# Install steps are stamped (.venv/.installed-*) and re-run only when the
# packaging files change, so repeated runs start at once.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PORT ?= 8000
HOST ?= 127.0.0.1
# Worker processes for `make run`: one per core, as `inspect-kit serve` defaults to.
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
HOME_DIR ?= $(or $(INSPECT_KIT_HOME),evidence)
PYTEST_ARGS ?=
BIN := $(VENV)/bin
PACKAGING := setup.cfg setup.py pyproject.toml
# Run apt-get as root, or through sudo when we are not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: run test lint bench assets install install-test chromium libreoffice wrk clean-venv

run: install assets
	$(BIN)/inspect-kit init --home $(HOME_DIR)
	$(BIN)/inspect-kit demo --if-empty --home $(HOME_DIR)
	@echo "Demo accounts are listed in README.md (Demo accounts)."
	@echo "The command line: $(BIN)/inspect-kit --help (or: . $(BIN)/activate; inspect-kit --help)"
	@echo "Open http://$(HOST):$(PORT)/ (Datasette: http://$(HOST):$(PORT)/data/)"
	$(BIN)/inspect-kit serve --home $(HOME_DIR) --host $(HOST) --port $(PORT) --workers $(WORKERS)

# Every core (pytest-xdist): tests take free ports and tmp_path folders and share no
# state; --dist loadfile keeps a module on one worker, so a module-scoped fixture
# (a copied demo store, a started server) is built once, not once per worker.
test: install-test assets chromium wrk libreoffice
	$(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

# Every bench runs even when one misses its targets (exit 1); the missed ones are
# named at the end and make fails.
bench: install-test assets wrk
	@found=0; missed=""; \
	for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		case "$$(basename "$$script")" in _*) continue;; esac; found=1; \
		echo "== $$script"; $(BIN)/python "$$script" || missed="$$missed $$script"; \
	done; \
	[ "$$found" = 1 ] || echo "No benchmarks in bench/ yet."; \
	if [ -n "$$missed" ]; then echo "Missed targets or failed:$$missed"; exit 1; fi

# Front-end assets: govuk-frontend from the npm registry, pinned to the version
# the installed govuk-frontend-jinja macros support (4.1.x <-> 6.3.0, see its
# README). `npm pack` fetches the published tarball (checked against the
# registry's integrity hash) without a package.json or node_modules. The
# compiled CSS is copied into the package with two edits: GDS Transport is
# licensed only for services on gov.uk domains, so its @font-face rules go and
# every font-family falls back to the system stack; and the absolute
# /assets/ URLs become relative to the CSS file, so they resolve under /static.
GOVUK_FRONTEND_VERSION := 6.3.0
GOVUK_DIR := inspect_kit/static/govuk-frontend
GOVUK_STAMP := $(GOVUK_DIR)/.version-$(GOVUK_FRONTEND_VERSION)
SYSTEM_FONTS := system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif

# GOV.UK's accessible-autocomplete (MIT licence, checked in its package.json
# and LICENSE.txt at this version), fetched the same way: it turns a case
# <select> into a type-ahead and leaves the select working without JavaScript.
AUTOCOMPLETE_VERSION := 3.0.1
AUTOCOMPLETE_DIR := inspect_kit/static/accessible-autocomplete
AUTOCOMPLETE_STAMP := $(AUTOCOMPLETE_DIR)/.version-$(AUTOCOMPLETE_VERSION)

$(AUTOCOMPLETE_STAMP): $(GOVUK_STAMP)
	rm -rf build/accessible-autocomplete $(AUTOCOMPLETE_DIR)
	mkdir -p build/accessible-autocomplete $(AUTOCOMPLETE_DIR)
	cd build/accessible-autocomplete && npm pack --silent accessible-autocomplete@$(AUTOCOMPLETE_VERSION) >/dev/null
	tar -xzf build/accessible-autocomplete/accessible-autocomplete-$(AUTOCOMPLETE_VERSION).tgz -C build/accessible-autocomplete
	grep -q '"license": "MIT"' build/accessible-autocomplete/package/package.json
	cp build/accessible-autocomplete/package/LICENSE.txt $(AUTOCOMPLETE_DIR)/
	sed -e 's#//\# sourceMappingURL=.*##' build/accessible-autocomplete/package/dist/accessible-autocomplete.min.js \
		> $(AUTOCOMPLETE_DIR)/accessible-autocomplete.min.js
	sed -e 's#/\*\# sourceMappingURL=[^*]*\*/##' build/accessible-autocomplete/package/dist/accessible-autocomplete.min.css \
		> $(AUTOCOMPLETE_DIR)/accessible-autocomplete.min.css
	rm -rf build/accessible-autocomplete
	touch $@

$(GOVUK_STAMP):
	@if ! command -v npm >/dev/null; then \
		echo "Installing Debian's npm to fetch govuk-frontend"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q npm; \
	fi
	rm -rf build/govuk-frontend $(GOVUK_DIR)
	mkdir -p build/govuk-frontend $(GOVUK_DIR)
	cd build/govuk-frontend && npm pack --silent govuk-frontend@$(GOVUK_FRONTEND_VERSION) >/dev/null
	tar -xzf build/govuk-frontend/govuk-frontend-$(GOVUK_FRONTEND_VERSION).tgz -C build/govuk-frontend
	cp build/govuk-frontend/package/dist/govuk/govuk-frontend.min.js $(GOVUK_DIR)/
	mkdir -p $(GOVUK_DIR)/assets
	cp -R build/govuk-frontend/package/dist/govuk/assets/images build/govuk-frontend/package/dist/govuk/assets/manifest.json $(GOVUK_DIR)/assets/
	sed -E -e 's/@font-face\{[^}]*\}//g' \
		-e 's/font-family:"?GDS Transport"?,arial,sans-serif/font-family:$(SYSTEM_FONTS)/g' \
		-e 's#url\(/assets/#url(assets/#g' \
		-e 's#/\*\# sourceMappingURL=[^*]*\*/##' \
		build/govuk-frontend/package/dist/govuk/govuk-frontend.min.css > $(GOVUK_DIR)/govuk-frontend.min.css
	@! grep -q "GDS Transport" $(GOVUK_DIR)/govuk-frontend.min.css || { echo "GDS Transport still referenced"; exit 1; }
	sed -i -e 's#//\# sourceMappingURL=.*##' $(GOVUK_DIR)/govuk-frontend.min.js
	rm -rf build/govuk-frontend
	touch $@

# Charts: Vega-Lite drawn by vega-embed (docs/architecture.md §10), from the npm
# registry like govuk-frontend. Pinned to the versions vl-convert-python bundles
# (vega 6.2.0, vega-lite 6.4, vega-embed 7.0.2), so a chart drawn in the browser
# and the same spec drawn into the draft report agree. Each tarball is checked
# against the sha512 below (the registry's dist.integrity when pinned) as well as
# by npm pack; only the three minified UMD builds and their licences are kept.
VEGA_VERSION := 6.2.0
VEGA_LITE_VERSION := 6.4.1
VEGA_EMBED_VERSION := 7.0.2
VEGA_INTEGRITY := sha512-BIwalIcEGysJdQDjeVUmMWB3e50jPDNAMfLJscjEvpunU9bSt7X1OYnQxkg3uBwuRRI4nWfFZO9uIW910nLeGw==
VEGA_LITE_INTEGRITY := sha512-KO3ybHNouRK4A0al/+2fN9UqgTEfxrd/ntGLY933Hg5UOYotDVQdshR3zn7OfXwQ7uj0W96Vfa5R+QxO8am3IQ==
VEGA_EMBED_INTEGRITY := sha512-ZHQPWSs9mUTGJPZ5yQVhHV+OLDCoTIjR//De93vG6igZX1MQCVo03ePWlfWCUAnPV1IsKfeJLqA3K/Qd11bAFQ==
VEGA_DIR := inspect_kit/static/vega
VEGA_STAMP := $(VEGA_DIR)/.version-$(VEGA_VERSION)-$(VEGA_LITE_VERSION)-$(VEGA_EMBED_VERSION)

$(VEGA_STAMP):
	@command -v npm >/dev/null || $(MAKE) --no-print-directory $(GOVUK_STAMP)
	rm -rf build/vega $(VEGA_DIR)
	mkdir -p build/vega $(VEGA_DIR)
	set -e; for spec in vega@$(VEGA_VERSION)@$(VEGA_INTEGRITY) vega-lite@$(VEGA_LITE_VERSION)@$(VEGA_LITE_INTEGRITY) \
			vega-embed@$(VEGA_EMBED_VERSION)@$(VEGA_EMBED_INTEGRITY); do \
		name=$${spec%%@*}; rest=$${spec#*@}; version=$${rest%%@*}; integrity=$${rest#*@}; \
		(cd build/vega && npm pack --silent $$name@$$version >/dev/null); \
		actual="sha512-$$(openssl dgst -sha512 -binary build/vega/$$name-$$version.tgz | base64 -w0)"; \
		if [ "$$actual" != "$$integrity" ]; then echo "$$name-$$version.tgz: integrity $$actual, expected $$integrity"; exit 1; fi; \
		mkdir -p build/vega/$$name; tar -xzf build/vega/$$name-$$version.tgz -C build/vega/$$name; \
		sed -e 's#//\# sourceMappingURL=.*##' build/vega/$$name/package/build/$$name.min.js > $(VEGA_DIR)/$$name.min.js; \
		cp build/vega/$$name/package/LICENSE $(VEGA_DIR)/LICENSE-$$name; \
	done
	rm -rf build/vega
	touch $@

# Both are stamped, so `make assets` fetches only what is missing or re-pinned.
assets: $(GOVUK_STAMP) $(AUTOCOMPLETE_STAMP) $(VEGA_STAMP)

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: $(BIN)/python $(PACKAGING)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python $(PACKAGING)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

# Playwright drives Debian's Chromium: its own browser downloads do not work here.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; \
	fi

# LibreOffice (Writer, no GUI) opens the draft report in the tests, to show it
# opens without repair (`soffice --headless --convert-to pdf`).
libreoffice:
	@if ! command -v soffice >/dev/null; then \
		echo "Installing Debian's libreoffice-writer-nogui for the report tests"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends libreoffice-writer-nogui; \
	fi

# wrk is the load generator the benchmarks prefer (a Python client saturates first, docs/architecture.md §9).
wrk:
	@if ! command -v wrk >/dev/null; then \
		echo "Installing Debian's wrk for the benchmarks"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk; \
	fi

clean-venv:
	rm -rf $(VENV)
