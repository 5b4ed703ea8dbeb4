CREATE TABLE "backtest_results" (
	"job_id" text PRIMARY KEY NOT NULL,
	"spec" jsonb NOT NULL,
	"result" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"digest" text NOT NULL,
	"bytes" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backtest_results" ADD CONSTRAINT "backtest_results_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;