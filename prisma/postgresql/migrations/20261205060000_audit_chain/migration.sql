-- The tamper-evident audit chain (lib/audit/chain.ts): entries per model, each with the hash of the one
-- before, and the head of each chain. Entries are append-only: the triggers refuse to change or remove
-- one, so that only someone who drops them first (and is then caught by `npm run audit -- verify`) can.
-- CreateTable
CREATE TABLE "AuditEntry" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "modelName" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "record" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditHead" (
    "modelId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditHead_pkey" PRIMARY KEY ("modelId")
);

-- CreateIndex
CREATE INDEX "AuditEntry_record_seq_idx" ON "AuditEntry"("record", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEntry_modelId_seq_key" ON "AuditEntry"("modelId", "seq");

-- Append-only (TRUNCATE too, which row triggers do not see)
CREATE FUNCTION "audit_entry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'AuditEntry is append-only';
END;
$$;
CREATE TRIGGER "AuditEntry_no_change" BEFORE UPDATE OR DELETE ON "AuditEntry"
  FOR EACH ROW EXECUTE FUNCTION "audit_entry_append_only"();
CREATE TRIGGER "AuditEntry_no_truncate" BEFORE TRUNCATE ON "AuditEntry"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_entry_append_only"();
