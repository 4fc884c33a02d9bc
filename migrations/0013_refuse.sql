-- A statement built from several repositories' CTEs (haoban.db.batch) stops
-- itself with refuse(code): SQLSTATE HB001 with the code as the message, so
-- nothing of the statement is written.
CREATE FUNCTION refuse(code text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'HB001', MESSAGE = code;
END;
$$;
