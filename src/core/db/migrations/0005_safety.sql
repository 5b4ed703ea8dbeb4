CREATE TABLE "leverage_settings" (
	"account_name" text NOT NULL,
	"connector_name" text NOT NULL,
	"trading_pair" text NOT NULL,
	"leverage" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "leverage_settings_pk" PRIMARY KEY("account_name","connector_name","trading_pair")
);
--> statement-breakpoint
CREATE TABLE "account_policies" (
	"account_name" text PRIMARY KEY NOT NULL,
	"mode" text DEFAULT 'paper' NOT NULL,
	"max_order_notional" numeric(38, 18),
	"order_cap_decided" boolean DEFAULT false NOT NULL,
	"max_daily_notional" numeric(38, 18),
	"max_position_notional" numeric(38, 18),
	"max_leverage" integer,
	"allowed_pairs" jsonb,
	"denied_pairs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"max_orders_per_minute" integer,
	"duplicate_window_seconds" integer,
	"confirm_above_notional" numeric(38, 18),
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kill_switches" (
	"scope" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"set_by" text NOT NULL,
	"set_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "account_name" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "notional" numeric(38, 18);--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "counts_to_budget" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "fingerprint" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "detail" jsonb;--> statement-breakpoint
ALTER TABLE "leverage_settings" ADD CONSTRAINT "leverage_settings_account_name_accounts_name_fk" FOREIGN KEY ("account_name") REFERENCES "public"."accounts"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_policies" ADD CONSTRAINT "account_policies_account_name_accounts_name_fk" FOREIGN KEY ("account_name") REFERENCES "public"."accounts"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_account_idx" ON "audit_events" USING btree ("account_name","at");