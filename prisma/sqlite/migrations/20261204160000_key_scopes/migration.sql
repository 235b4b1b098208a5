-- Keys scoped to models (ApiKey.models) and prediction ids unique per model (Prediction's key is
-- (modelId, id); a label joins on both). lib/db/migrate.ts runs a SQLite migration with foreign keys off,
-- so the rebuilt Prediction table does not cascade its DROP to the labels.
-- Keys made before scopes existed keep what they could do: every model.
-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Prediction" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "versionId" TEXT,
    "source" TEXT NOT NULL,
    "features" JSONB NOT NULL,
    "output" JSONB,
    "confidence" REAL,
    "latencyMs" REAL,
    "error" TEXT,
    "quality" JSONB,
    "shadowOf" TEXT,
    "predictedAt" DATETIME NOT NULL,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("modelId", "id"),
    CONSTRAINT "Prediction_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Prediction" ("confidence", "error", "features", "id", "latencyMs", "modelId", "output", "predictedAt", "quality", "receivedAt", "shadowOf", "source", "versionId") SELECT "confidence", "error", "features", "id", "latencyMs", "modelId", "output", "predictedAt", "quality", "receivedAt", "shadowOf", "source", "versionId" FROM "Prediction";
DROP TABLE "Prediction";
ALTER TABLE "new_Prediction" RENAME TO "Prediction";
CREATE INDEX "Prediction_modelId_receivedAt_idx" ON "Prediction"("modelId", "receivedAt");
CREATE TABLE "new_Label" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "modelId" TEXT NOT NULL,
    "predictionId" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "observedAt" DATETIME NOT NULL,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Label_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Label_modelId_predictionId_fkey" FOREIGN KEY ("modelId", "predictionId") REFERENCES "Prediction" ("modelId", "id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Label" ("id", "modelId", "observedAt", "predictionId", "receivedAt", "value") SELECT "id", "modelId", "observedAt", "predictionId", "receivedAt", "value" FROM "Label";
DROP TABLE "Label";
ALTER TABLE "new_Label" RENAME TO "Label";
CREATE INDEX "Label_modelId_receivedAt_idx" ON "Label"("modelId", "receivedAt");
CREATE UNIQUE INDEX "Label_modelId_predictionId_key" ON "Label"("modelId", "predictionId");
CREATE TABLE "new_ApiKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "models" JSONB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" DATETIME
);
INSERT INTO "new_ApiKey" ("createdAt", "hash", "id", "name", "prefix", "revokedAt", "role", "models") SELECT "createdAt", "hash", "id", "name", "prefix", "revokedAt", "role", '["*"]' FROM "ApiKey";
DROP TABLE "ApiKey";
ALTER TABLE "new_ApiKey" RENAME TO "ApiKey";
CREATE UNIQUE INDEX "ApiKey_name_key" ON "ApiKey"("name");
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;


-- The canary split's key and other secrets the server makes for itself (lib/registry/routing-secret.ts).
-- CreateTable
CREATE TABLE "ServerSecret" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
