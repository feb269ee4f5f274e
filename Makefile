# The two commands the README promises, and the developer's helpers.
.PHONY: run test bench bench-live bench-load fuzz generate generated lint check graphiql-assets

# Start the server; with no DATABASE_URL it runs its own PostgreSQL.
run:
	go run .

# The whole suite, on real PostgreSQL (a private cluster per test binary, or
# TEST_DATABASE_URL's server).
test:
	go test -race -count=1 ./...

# Benchmarks print figures; they never fail on speed.
bench:
	go test -run '^$$' -bench . -benchmem ./...

# freshgraph and a bare net/http + pgx handler in processes of their own on
# one PostgreSQL, load from a third: req/s, p50, p99, CPU per request, peak
# RSS and the ratios of four scenarios, at 10,000 and 1,000,000 users (about
# 12 minutes).
# BENCHLOAD_FLAGS passes flags, e.g. BENCHLOAD_FLAGS="-users 10000 -duration 5s".
BENCHLOAD_FLAGS ?=
bench-live:
	go run ./internal/benchload live $(BENCHLIVE_FLAGS)

bench-load:
	go run ./internal/benchload $(BENCHLOAD_FLAGS)

# Every fuzz target, one after another, for FUZZTIME each (go test fuzzes
# one target at a time). Only packages with fuzz targets are listed: -list
# runs a package's TestMain, which may start PostgreSQL. A failing input is
# written to the package's testdata/fuzz/<target>/, which `make test` replays.
# FUZZFLAGS passes more flags, e.g. FUZZFLAGS=-parallel=1 on a busy machine.
FUZZTIME ?= 30s
FUZZFLAGS ?=
fuzz:
	@set -e; \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for name in $$(go test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
			echo "--- $$name ($$dir, $(FUZZTIME))"; \
			go test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$dir; \
		done; \
	done

# Regenerate gqlgen's code: graph/ from schema.graphqls, and the example
# part's (internal/examplefield).
generate:
	go generate ./...

# Fails when the committed generated code is not what go generate writes.
generated:
	go generate ./...
	git diff --exit-code -- graph/ internal/examplefield/ || { echo "generated code is stale: run make generate and commit it"; exit 1; }

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go tool staticcheck ./...

check: lint test

# Refresh the GraphiQL files the binary embeds from npm, at the versions
# pinned in web/graphiql/package-lock.json.
graphiql-assets:
	bash web/graphiql/refresh.sh
