-- AlterTable
ALTER TABLE "DeploymentRevision" ADD COLUMN "idempotencyKey" TEXT;

-- CreateTable
CREATE TABLE "PolicyVersion" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "modelId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "document" JSONB NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PolicyVersion_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "PolicyVersion_idempotencyKey_key" ON "PolicyVersion"("idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "PolicyVersion_modelId_version_key" ON "PolicyVersion"("modelId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "DeploymentRevision_idempotencyKey_key" ON "DeploymentRevision"("idempotencyKey");

