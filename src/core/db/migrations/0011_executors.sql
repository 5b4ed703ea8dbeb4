CREATE TABLE "executors" (
	"id" text PRIMARY KEY NOT NULL,
	"account_name" text NOT NULL,
	"connector_name" text NOT NULL,
	"trading_pair" text NOT NULL,
	"type" text NOT NULL,
	"side" text,
	"controller_id" text,
	"config" jsonb NOT NULL,
	"state" jsonb NOT NULL,
	"runtime" jsonb NOT NULL,
	"outbox" jsonb NOT NULL,
	"status" text NOT NULL,
	"close_type" text,
	"report" jsonb,
	"stop_request" jsonb,
	"created_by" text NOT NULL,
	"principal" jsonb NOT NULL,
	"runner" text,
	"heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "executors_created_idx" ON "executors" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "executors_status_idx" ON "executors" USING btree ("status");--> statement-breakpoint
CREATE INDEX "executors_account_created_idx" ON "executors" USING btree ("account_name","created_at");