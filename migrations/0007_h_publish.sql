-- 0007 H publish (spec 04 H.4): what the publish pipeline needs beyond 0003.
--
-- The ConfigChanged outbox relay of med-h-config must find pending outbox
-- rows of every tenant after a crash between commit and publish, but
-- tenant_isolation hides rows of other tenants. This permissive SELECT
-- policy shows pending outbox rows (only those) to a session that set
-- app.outbox_relay = 'h_config'. The relay then marks each row sent inside
-- a transaction set to the row's tenant, so writes stay tenant-scoped.
DROP POLICY IF EXISTS h_outbox_relay ON config_publish_operations;
CREATE POLICY h_outbox_relay ON config_publish_operations FOR SELECT
    USING (outbox_status = 'pending'
           AND current_setting('app.outbox_relay', true) = 'h_config');
