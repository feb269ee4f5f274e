-- A role's insert and update checks, asked in the statement that writes the
-- rows: a row that fails one is an error before the statement ends, so
-- nothing it wrote stays (Hasura's "check constraint of an insert/update
-- permission has failed").

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION freshgraph_permission_checked(passed boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF passed IS FALSE THEN
        RAISE EXCEPTION 'check constraint of an insert/update permission has failed'
            USING ERRCODE = 'insufficient_privilege', HINT = 'freshgraph-permission-check';
    END IF;
    RETURN true;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION freshgraph_permission_checked(boolean);
