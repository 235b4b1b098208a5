-- AlterTable
ALTER TABLE "ModelVersion" ADD COLUMN "idempotencyKey" TEXT;

-- Candidates registered before the column kept their key in the training window.
UPDATE "ModelVersion" SET "idempotencyKey" = json_extract("trainingWindow", '$.key')
WHERE json_extract("trainingWindow", '$.key') IS NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_idempotencyKey_key" ON "ModelVersion"("idempotencyKey");
