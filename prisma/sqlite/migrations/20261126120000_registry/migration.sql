-- Serving settings per model, and the link from a shadow prediction to the prediction it shadows.
-- `prisma migrate diff` proposes rebuilding "Model" for the two NOT NULL columns; SQLite adds a NOT NULL
-- column with a constant default in place, and a rebuild would be unsafe here: the migration runner
-- applies each migration in a transaction, where `PRAGMA foreign_keys=OFF` has no effect, so dropping the
-- old "Model" table would cascade-delete every row that refers to it.

-- AlterTable
ALTER TABLE "Model" ADD COLUMN "onInvalid" TEXT NOT NULL DEFAULT 'flag';
ALTER TABLE "Model" ADD COLUMN "disabledResponse" TEXT NOT NULL DEFAULT 'unavailable';

-- AlterTable
ALTER TABLE "Prediction" ADD COLUMN "shadowOf" TEXT;
