ALTER TABLE "backtest_results" ALTER COLUMN "result" SET DATA TYPE text USING "result"::text;
