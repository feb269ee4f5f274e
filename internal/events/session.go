package events

import (
	"context"
	"encoding/json"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// SetSessionVariables leaves caller's session variables in the
// transaction tx, where the event triggers read them (hasura.user, as
// Hasura's do) into their events' session_variables. A cookie caller's
// X-Hasura-User-Id is its session's user, read in the same statement.
func SetSessionVariables(ctx context.Context, tx database.Conn, caller auth.Caller) error {
	encoded, err := json.Marshal(caller.SessionVariables())
	if err != nil {
		return err
	}
	b := &sqlbuild.Builder{}
	b.S("SELECT set_config('hasura.user', (").TypedArg(string(encoded), "jsonb")
	if caller.SessionToken != "" && caller.UserID == "" {
		b.S(" || jsonb_strip_nulls(jsonb_build_object('x-hasura-user-id', ")
		authjs.UserOfSession(b, caller.SessionToken)
		b.S("))")
	}
	b.S(")::text, true)")
	_, err = tx.Exec(ctx, b.SQL(), b.Args()...)
	return err
}
