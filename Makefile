# The two commands: `make run` (set up, ingest the sample knowledge base, serve) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
SHOP_PORT ?= 8100
SHOP_TOKEN ?= demo-shop-token

.PHONY: run test bench install lint services chromium clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch first, pinned: that release is the CPU build on this disk; anything else pulls CUDA.
# The rest within constraints.txt: the versions the suite last passed with.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/baton db upgrade
	$(BIN)/baton ingest samples/kb
	$(BIN)/baton users demo
	# the sample shop backend (engine/integrations/sample_shop.py, docs/integrations.md) runs beside the
	# server and stops with it; the server looks accounts up and performs actions through it
	$(BIN)/python -m engine.integrations.sample_shop --host $(HOST) --port $(SHOP_PORT) --db var/shop.db \
		--token $(SHOP_TOKEN) & shop=$$!; trap 'kill $$shop' EXIT; \
	BATON_INTEGRATION_URL=http://$(HOST):$(SHOP_PORT) BATON_INTEGRATION_AUTH_VALUE="Bearer $(SHOP_TOKEN)" \
		$(BIN)/baton serve --host $(HOST) --port $(PORT)

test: install services chromium
	$(BIN)/pytest -q

# no per-test timeout here: one benchmark runs for minutes (the suite's is in pyproject.toml)
bench: install
	$(BIN)/pytest -q -s tests/bench -m bench -p no:cacheprovider --timeout=0

lint: install
	$(BIN)/ruff check .

# PostgreSQL and Redis are on the machine; start them if they stopped (commands from the machine page).
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true

# Debian's chromium for the browser tests (Playwright cannot download its own build here).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

clean:
	rm -rf $(VENV) .pytest_cache
