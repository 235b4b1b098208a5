-- AlterTable
ALTER TABLE "Model" ADD COLUMN     "disabledResponse" TEXT NOT NULL DEFAULT 'unavailable',
ADD COLUMN     "onInvalid" TEXT NOT NULL DEFAULT 'flag';

-- AlterTable
ALTER TABLE "Prediction" ADD COLUMN     "shadowOf" TEXT;

