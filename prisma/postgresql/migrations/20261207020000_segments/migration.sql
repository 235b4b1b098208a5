-- Segment definitions per model (lib/segments/definition.ts).
-- AlterTable
ALTER TABLE "Model" ADD COLUMN "segments" JSONB;
