#!/usr/bin/env bash
# Installs the pinned GraphiQL and React (package-lock.json) and copies the
# four files the GraphiQL page loads into DIR, flat: serve them with
# GRAPHIQL_ASSETS_DIR=DIR.
set -euo pipefail
dir=${1:?usage: install.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$dir"
cp "$here/node_modules/graphiql/graphiql.min.js" \
   "$here/node_modules/graphiql/graphiql.min.css" \
   "$here/node_modules/react/umd/react.production.min.js" \
   "$here/node_modules/react-dom/umd/react-dom.production.min.js" "$dir/"
echo "GraphiQL assets in $dir"
