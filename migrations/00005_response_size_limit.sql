-- The response size limit, checked where PostgreSQL builds the answer: an
-- answer over max_bytes is an error before any of it is sent, so the server
-- never holds it, and a mutation that would answer it is rolled back whole.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION freshgraph_response_capped(answer json, max_bytes bigint) RETURNS json
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    size bigint := octet_length(answer::text);
BEGIN
    IF size > max_bytes THEN
        RAISE EXCEPTION 'the answer has % bytes, over the limit of %', size, max_bytes
            USING ERRCODE = 'program_limit_exceeded', DETAIL = size::text, HINT = 'freshgraph-response-size';
    END IF;
    RETURN answer;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION freshgraph_response_capped(json, bigint);
