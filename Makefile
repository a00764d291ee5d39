# CodeStory Analytics. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go

.PHONY: help run test test-go test-web chromium lint build bench fmt

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## run the server on the embedded SQLite database with demo data
	$(GO) run ./cmd/codestory-analytics serve --demo

build: ## build the binary ./codestory-analytics
	$(GO) build -o codestory-analytics ./cmd/codestory-analytics

test: lint test-go test-web ## the whole test suite: Go (SQLite, PostgreSQL, Redis), dashboard unit and browser tests

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-go: ## Go tests (PostgreSQL and Redis tests fail, not skip, when CI=true and they are down)
	$(GO) test -count=1 -timeout 30m ./...

test-web: chromium ## dashboard: dist up to date, Vitest, Playwright in Debian's chromium against the real server
	cd web && npm ci --no-audit --no-fund && npm run check-dist && npm run test:unit && npm run test:e2e

chromium: ## install Debian's Chromium for the browser tests when it is missing (Playwright cannot download its own here)
	@if ! command -v chromium >/dev/null 2>&1; then \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing Debian's chromium (apt-get)"; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

bench: ## ingest benchmarks (events/s)
	$(GO) test -run XXX -bench Ingest -benchtime 100x ./...

fmt: ## format the Go code
	gofmt -w $$(git ls-files '*.go')
