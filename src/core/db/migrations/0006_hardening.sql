CREATE TABLE "approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"order" jsonb NOT NULL,
	"requester" text NOT NULL,
	"channel" text NOT NULL,
	"account_name" text NOT NULL,
	"notional" numeric,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	"reason" text,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "notional" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "accounts" jsonb;--> statement-breakpoint
ALTER TABLE "account_policies" ADD COLUMN "confirmation" text DEFAULT 'token' NOT NULL;--> statement-breakpoint
CREATE INDEX "approvals_requester_fingerprint_idx" ON "approvals" USING btree ("requester","fingerprint");--> statement-breakpoint
CREATE INDEX "approvals_status_idx" ON "approvals" USING btree ("status","created_at");