CREATE TABLE "portfolio_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"account_name" text NOT NULL,
	"connector_name" text NOT NULL,
	"quote" text NOT NULL,
	"total_value" numeric(38, 18) NOT NULL,
	"detail" jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "portfolio_snapshots_at_idx" ON "portfolio_snapshots" USING btree ("at");--> statement-breakpoint
CREATE INDEX "portfolio_snapshots_account_at_idx" ON "portfolio_snapshots" USING btree ("account_name","at");