# yijianshi — the commands the README promises.
#   make up     run every service and the gateway on 127.0.0.1:8000 (SQLite, local RabbitMQ);
#               the broker's topology is applied first (yjs up does it)
#   make screenshots  a PNG of each main page of the portal in docs/screenshots/
#   make topology  only apply the broker's topology (exchanges, queues, bindings) and every
#               service's own broker user (docs/adr/0012) to AMQP_URI
#   make test   the whole suite against the real RabbitMQ and PostgreSQL, and the deploy files' checks
#               (promtool, amtool, docker-compose, kubectl kustomize, kubernetes-validate; ensure-tools.sh)
#   make faults a broker cluster of its own, PostgreSQL and every service killed under load: nothing
#               lost, nothing doubled (yjs faults; its last line says so)
#   make mutate the mutation score of the rules and codes (MUTANTS=all for every mutant; docs/testing.md)
#   make migration SERVICE=x MESSAGE=…  a revision in service x's branch (SERVICE=kit: the kit's; docs/migrations.md)
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.11 python3; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := contracts services/kit services/case services/registration services/seal_carving services/tax \
	services/bank_account services/gateway cli
PACKAGES += $(wildcard services/licensing services/deregistration services/social_insurance)

.PHONY: install up topology demo screenshots test test-fast mutate bench faults schemas check-schemas migration clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (eventlet, under nameko, does not support 3.13): install python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps $(foreach p,$(PACKAGES),-e $(p))
	@touch $@

up: install
	infra/local/ensure-services.sh rabbitmq
	$(BIN)/yjs up

topology: install
	infra/local/ensure-services.sh rabbitmq
	$(BIN)/yjs topology apply --users

demo: install
	infra/local/ensure-services.sh rabbitmq
	$(BIN)/yjs demo

# a PNG of each main page of the portal in docs/screenshots/ (uses the running system, or starts one)
screenshots: install
	infra/local/ensure-services.sh rabbitmq chromium
	$(BIN)/yjs screenshots

# the suite in TEST_JOBS pytest processes side by side, the test files shared out by their recorded
# durations (yjs_cli.shards); `.venv/bin/pytest` alone runs it in one
TEST_JOBS ?= 2
test: install
	infra/local/ensure-services.sh rabbitmq postgres chromium
	infra/local/ensure-tools.sh $(BIN)
	$(BIN)/python -m yjs_cli.parallel_tests --jobs $(TEST_JOBS)

test-fast: install
	$(BIN)/pytest contracts services/*/tests/test_rules.py services/case/tests/test_record.py

# a random sample per run (its seed is printed); MUTANTS=all tests every mutant (tens of minutes)
MUTANTS ?= 320
mutate: install
	$(BIN)/python infra/mutation/run.py --minimum 85 $(if $(filter all,$(MUTANTS)),,--sample $(MUTANTS)) $(if $(SEED),--seed $(SEED))

bench: install
	infra/local/ensure-services.sh rabbitmq postgres
	$(BIN)/yjs bench --output docs/benchmarks-latest.md

# its own three-node broker beside the machine's (which it leaves alone); restarts PostgreSQL once
faults: install
	infra/local/ensure-services.sh rabbitmq postgres
	$(BIN)/yjs faults

schemas: install
	$(BIN)/yjs-contracts write

migration: install
	@test -n "$(SERVICE)" || { echo "usage: make migration SERVICE=case MESSAGE='what changed'  (SERVICE=kit: the kit's tables; docs/migrations.md)"; exit 2; }
	$(BIN)/yjs-migrate revision $(SERVICE) -m "$(MESSAGE)"

clean:
	rm -rf var/ $(VENV)
