-- AlterTable
ALTER TABLE "DeploymentRevision" ADD COLUMN     "idempotencyKey" TEXT;

-- CreateTable
CREATE TABLE "PolicyVersion" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "document" JSONB NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PolicyVersion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PolicyVersion_idempotencyKey_key" ON "PolicyVersion"("idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "PolicyVersion_modelId_version_key" ON "PolicyVersion"("modelId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "DeploymentRevision_idempotencyKey_key" ON "DeploymentRevision"("idempotencyKey");

-- AddForeignKey
ALTER TABLE "PolicyVersion" ADD CONSTRAINT "PolicyVersion_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

