#!/usr/bin/env bash
# Refreshes the GraphiQL assets the binary embeds (internal/graphiql/assets)
# from npm, at the versions pinned in package-lock.json. To move to newer
# versions: edit package.json, run `npm install` here, then this script, and
# commit package*.json with the assets. The page checks each file against its
# sha256 (subresource integrity), computed from the embedded bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../internal/graphiql/assets}
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
m=$here/node_modules
mkdir -p "$out"
cp "$m/graphiql/graphiql.min.js" "$m/graphiql/graphiql.min.css" \
   "$m/react/umd/react.production.min.js" "$m/react-dom/umd/react-dom.production.min.js" "$out/"
cp "$m/@graphiql/plugin-explorer/dist/index.umd.js" "$out/plugin-explorer.umd.js"
cp "$m/@graphiql/plugin-explorer/dist/style.css" "$out/plugin-explorer.css"
# The licences travel with the copies (all MIT).
{
	for pkg in graphiql react react-dom @graphiql/plugin-explorer @graphiql/plugin-explorer/node_modules/graphiql-explorer; do
		echo "== ${pkg##*/} $(node -p "require('$m/$pkg/package.json').version")"
		if [ -f "$m/$pkg/LICENSE" ]; then cat "$m/$pkg/LICENSE"; else
			echo "License: $(node -p "require('$m/$pkg/package.json').license") (the package has no licence file)"; fi
		echo
	done
} > "$out/LICENSES.txt"
(cd "$out" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js \
	plugin-explorer.umd.js plugin-explorer.css)
echo "GraphiQL assets in $out"
