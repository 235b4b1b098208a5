-- Segment definitions per model (lib/segments/definition.ts).
-- AlterTable
ALTER TABLE "Model" ADD COLUMN "segments" JSONB;

-- The segments a deployment revision serves from its fallback version (lib/registry/routing.ts).
-- AlterTable
ALTER TABLE "DeploymentRevision" ADD COLUMN "fallbackSegments" JSONB;
