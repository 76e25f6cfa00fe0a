# Build, test and benchmark the LSS quorum project. Everything needs only Go, except
# `make proto`, which also needs protoc (Debian: protobuf-compiler).
GO ?= go
BIN := bin
PROTOC_GEN_GO := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

.PHONY: all build test fuzz bench proto lint testnet demo clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# test says, before and after (where it is seen), when the PostgreSQL tests will be
# skipped: `go test` hides a passing package's skips. Under CI=true they fail instead.
test:
	@$(MAKE) -s check-postgres
	$(GO) test -race -count=1 -timeout 30m ./...
	@$(MAKE) -s check-postgres

check-postgres:
	@if [ -n "$$LSSD_TEST_POSTGRES_URL" ]; then exit 0; fi; \
	if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "*** PostgreSQL not found: the PostgreSQL tests are SKIPPED (apt-get install postgresql, or set LSSD_TEST_POSTGRES_URL) ***" >&2; \
	elif [ "$$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then \
		echo "*** running as root without a postgres user (initdb refuses root): the PostgreSQL tests are SKIPPED (Debian's postgresql package creates the user) ***" >&2; \
	fi

# fuzz runs every fuzz target (each func FuzzX in a tracked _test.go file) for
# FUZZTIME, one after another; CI runs it after the tests. The committed seed
# corpora (testdata/fuzz) also run as ordinary tests in make test.
FUZZTIME ?= 10s
fuzz:
	@set -e; for f in $$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz'); do \
	  for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz $$t in ./$$(dirname $$f) for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./$$(dirname $$f); \
	  done; \
	done

# bench compares every mode under both workloads on local networks; BENCHFLAGS adds
# flags, e.g. BENCHFLAGS="--dir /data --json".
bench:
	$(GO) run ./cmd/lss-quorum bench --compare --workload provider,signer $(BENCHFLAGS)

proto:
	$(GO) install $(PROTOC_GEN_GO)
	$(GO) install $(PROTOC_GEN_GO_GRPC)
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" protoc -I proto \
		--go_out=proto/lsspb --go_opt=paths=source_relative \
		--go-grpc_out=proto/lsspb --go-grpc_opt=paths=source_relative \
		proto/lss.proto

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

testnet:
	$(GO) run ./cmd/lss-quorum testnet up -n 3

demo:
	$(GO) run ./cmd/lss-quorum demo

clean:
	rm -rf $(BIN)
