-- The tamper-evident audit chain (lib/audit/chain.ts): entries per model, each with the hash of the one
-- before, and the head of each chain. Entries are append-only: the triggers refuse to change or remove
-- one, so that only someone who drops them first (and is then caught by `npm run audit -- verify`) can.
-- CreateTable
CREATE TABLE "AuditEntry" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "modelId" TEXT NOT NULL,
    "modelName" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "record" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "AuditHead" (
    "modelId" TEXT NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL
);

-- CreateIndex
CREATE INDEX "AuditEntry_record_seq_idx" ON "AuditEntry"("record", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEntry_modelId_seq_key" ON "AuditEntry"("modelId", "seq");

-- Append-only
CREATE TRIGGER "AuditEntry_no_update" BEFORE UPDATE ON "AuditEntry"
BEGIN SELECT RAISE(ABORT, 'AuditEntry is append-only'); END;
CREATE TRIGGER "AuditEntry_no_delete" BEFORE DELETE ON "AuditEntry"
BEGIN SELECT RAISE(ABORT, 'AuditEntry is append-only'); END;
