# The two commands the README promises, and the developer's helpers.
.PHONY: run test bench generate lint check graphiql-assets

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

# Regenerate gqlgen's code from schema.graphqls.
generate:
	go generate ./...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go tool staticcheck ./...

check: lint test

# GraphiQL's scripts (pinned in web/graphiql/package-lock.json) for serving
# GraphiQL without a CDN: GRAPHIQL_ASSETS_DIR=.freshgraph/graphiql make run
graphiql-assets:
	bash web/graphiql/install.sh .freshgraph/graphiql
