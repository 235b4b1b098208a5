-- Keys scoped to models (ApiKey.models) and prediction ids unique per model (Prediction's key is
-- (modelId, id); a label joins on both).
-- DropForeignKey
ALTER TABLE "Label" DROP CONSTRAINT "Label_predictionId_fkey";

-- DropIndex
DROP INDEX "Label_predictionId_key";

-- AlterTable
ALTER TABLE "Prediction" DROP CONSTRAINT "Prediction_pkey",
ADD CONSTRAINT "Prediction_pkey" PRIMARY KEY ("modelId", "id");

-- AlterTable
-- Keys made before scopes existed keep what they could do: every model. New keys always state theirs.
ALTER TABLE "ApiKey" ADD COLUMN "models" JSONB NOT NULL DEFAULT '["*"]';
ALTER TABLE "ApiKey" ALTER COLUMN "models" DROP DEFAULT;

-- CreateIndex
CREATE UNIQUE INDEX "Label_modelId_predictionId_key" ON "Label"("modelId", "predictionId");

-- AddForeignKey
ALTER TABLE "Label" ADD CONSTRAINT "Label_modelId_predictionId_fkey" FOREIGN KEY ("modelId", "predictionId") REFERENCES "Prediction"("modelId", "id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The canary split's key and other secrets the server makes for itself (lib/registry/routing-secret.ts).
-- CreateTable
CREATE TABLE "ServerSecret" (
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ServerSecret_pkey" PRIMARY KEY ("name")
);
