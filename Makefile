# Portcullis — the two commands that matter are `make run` and `make test`.
GO      ?= go
BIN     := bin/portcullis
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run build test test-short test-security test-lab bench bench-scan bench-web bench-agents fuzz generate lint clean

run: build
	./$(BIN) serve --demo --db portcullis.db

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/portcullis

test: lint
	$(GO) test -race -count=1 -timeout 30m ./...

test-short:
	$(GO) test -race -short ./...

# The security tests (handlers/security_test.go), on SQLite and on PostgreSQL when reachable.
test-security:
	$(GO) test -race -count=1 -run 'TestSecurity' -v ./handlers/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The scanner against real daemons in network namespaces, SYN and connect, at LAN
# speed and behind the lab's delay line (root; installs Debian packages). A few minutes.
test-lab:
	scanner/lab/install.sh
	scanner/lab/install-credentials.sh
	$(GO) test -tags lab -count=1 -v -timeout 15m -run 'TestLab$$|TestLabCredentials$$' ./scanner/lab/

# Ours, nmap -sT/-sS and masscan side by side on the lab, a firewalled host, a
# drop-everything host and behind the delay line, plus a /16 sweep: one table of
# wall time, recall, precision, service accuracy and peak RSS. Not in CI.
bench-scan:
	scanner/lab/install.sh
	LAB_BENCH=1 $(GO) test -tags lab -count=1 -v -timeout 90m -run TestBenchScan ./scanner/lab/

# A zone of 64 lab hosts (network namespaces, root) scanned by the built-in
# scanner, then by four agents: wall time and chunk throughput. Not in CI.
bench-agents:
	AGENTS_BENCH=1 $(GO) test -count=1 -v -timeout 30m -run 'TestBenchAgents$$' ./cmd/portcullis/

# The web server under load (needs wrk: apt-get install wrk): the demo organisation, then 100,000
# requests, 1,000,000 audit events, 10,000 assets and 200,000 drift items seeded, each on SQLite and
# on a throwaway PostgreSQL database; every page and the main API calls at 32 connections, 5 s each;
# each seeded run compared with the demo on the same database.
# Smaller: make bench-web BENCH_WEB_FLAGS="--requests 10000 --audit-events 100000 --drift-items 20000"
bench-web: build
	$(GO) run ./cmd/benchweb --bin $(BIN) $(BENCH_WEB_FLAGS)

# Each fuzz target for a short while; run one longer with
#   go test -run '^$' -fuzz FuzzParsePorts -fuzztime 5m ./workflow/policy
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

generate:
	$(GO) tool templ generate

# The lab's files build only under their tag: vetted too, so that a broken lab
# test fails make test rather than the lab run after it.
lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) tool templ fmt -fail .
	$(GO) vet ./...
	$(GO) vet -tags lab ./scanner/lab/...

clean:
	rm -rf bin portcullis.db portcullis.db-shm portcullis.db-wal
