// Package migrations holds the database schema as goose SQL files, embedded so
// that the server binary carries and applies its own schema at start-up.
package migrations

import "embed"

// FS holds every migration, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
