CREATE TABLE "optimization_results" (
	"job_id" text PRIMARY KEY NOT NULL,
	"spec" jsonb NOT NULL,
	"leaderboard" jsonb NOT NULL,
	"windows" jsonb,
	"trials_done" integer NOT NULL,
	"trials_total" integer NOT NULL,
	"trials_rejected" integer NOT NULL,
	"partial" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "optimization_results" ADD CONSTRAINT "optimization_results_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;