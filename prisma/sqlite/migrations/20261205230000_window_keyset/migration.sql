-- The monitor reads a window's predictions and labels in keyset pages ordered by (receivedAt, id)
-- (activities/monitor.ts): the index ends in id so that each page is an index range, never a sort.
-- DropIndex
DROP INDEX "Prediction_modelId_receivedAt_idx";

-- DropIndex
DROP INDEX "Label_modelId_receivedAt_idx";

-- CreateIndex
CREATE INDEX "Prediction_modelId_receivedAt_id_idx" ON "Prediction"("modelId", "receivedAt", "id");

-- CreateIndex
CREATE INDEX "Label_modelId_receivedAt_id_idx" ON "Label"("modelId", "receivedAt", "id");
