package events

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/freshgraph/freshgraph/internal/database"
)

// LogAction writes a call of the asynchronous action name to the log, on
// db (in the request's transaction, if it has one): its input, the
// caller's session variables and the client's headers to forward (nil:
// none). The deliverer calls the handler (ActionRunner); the id is the
// call's.
func LogAction(ctx context.Context, db database.Conn, name string, input, sessionVariables, headers json.RawMessage) (string, error) {
	var id string
	err := db.QueryRow(ctx, `INSERT INTO freshgraph_event_log (kind, trigger_name, data, session_variables, request_headers)
		VALUES ('action', $1, $2, $3, $4) RETURNING id::text`, name, string(input), string(sessionVariables), jsonOrNull(headers)).Scan(&id)
	return id, err
}

// ActionCall is a logged call of an asynchronous action, as its result is
// read.
type ActionCall struct {
	ID        string
	CreatedAt json.RawMessage // as JSON: a timestamptz string
	// Done: the handler answered (Output) or the call failed (Errors).
	Done           bool
	Output, Errors json.RawMessage
}

// ReadAction reads the call id (a uuid) of the action name, if the caller
// may read it: every call for the admin, else only calls made with the
// same session variables (as Hasura). nil when there is none it may read.
func ReadAction(ctx context.Context, db database.Conn, name, id string, admin bool, sessionVariables json.RawMessage) (*ActionCall, error) {
	var c ActionCall
	var status string
	err := db.QueryRow(ctx, `SELECT id::text, to_json(created_at), status, output, errors FROM freshgraph_event_log
		WHERE id = $1::uuid AND kind = 'action' AND trigger_name = $2 AND ($3 OR session_variables::jsonb = $4::jsonb)`,
		id, name, admin, string(sessionVariables)).Scan(&c.ID, &c.CreatedAt, &status, &c.Output, &c.Errors)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.Done = status != "pending"
	return &c, nil
}
