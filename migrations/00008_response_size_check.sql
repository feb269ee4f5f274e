-- The response size limit's error on its own: a query checks its answer's
-- size in plain SQL (a CASE), which costs PostgreSQL far less than a call
-- of freshgraph_response_capped for every answer, and calls this only for
-- an answer over the limit. Same error, code and hint as that function's.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION freshgraph_response_too_large(size bigint, max_bytes bigint) RETURNS json
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'the answer has % bytes, over the limit of %', size, max_bytes
        USING ERRCODE = 'program_limit_exceeded', DETAIL = size::text, HINT = 'freshgraph-response-size';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION freshgraph_response_too_large(bigint, bigint);
