CREATE TABLE "optimization_trials" (
	"job_id" text NOT NULL,
	"trial" integer NOT NULL,
	"metrics" jsonb NOT NULL,
	CONSTRAINT "optimization_trials_job_id_trial_pk" PRIMARY KEY("job_id","trial")
);
--> statement-breakpoint
ALTER TABLE "optimization_trials" ADD CONSTRAINT "optimization_trials_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;