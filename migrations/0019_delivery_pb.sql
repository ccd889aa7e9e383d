-- 0019 delivery_records: the packed Delivery as bytes, not base64 in jsonb.
--
-- E kept the Delivery it answered as base64url text inside payload
-- (payload.deliveryPb, about 2.5 KB per row). PostgreSQL 15 lexes a jsonb
-- string one character at a time, so every served opportunity paid for
-- that twice (E encoding, the server parsing). The bytes now go to
-- delivery_pb; payload keeps the fields a human or F reads (status, codes,
-- winnerPriceMicros, winnerCurrency).
ALTER TABLE delivery_records ADD COLUMN IF NOT EXISTS delivery_pb bytea;

-- The stored Delivery as base64url (no padding), whichever way the row
-- keeps it: the readers (E's reuse of a stored answer, G's replay) decode
-- one text form for old and new rows alike.
CREATE OR REPLACE FUNCTION med_delivery_pb_b64url(pb bytea, payload jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT CASE WHEN pb IS NULL THEN payload->>'deliveryPb'
                ELSE translate(encode(pb, 'base64'), E'+/=\n', '-_') END
$fn$;
