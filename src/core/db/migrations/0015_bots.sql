CREATE TABLE "bot_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bot_id" text NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bot_fills" (
	"bot_id" text NOT NULL,
	"fill_id" text NOT NULL,
	"client_order_id" text NOT NULL,
	"trading_pair" text NOT NULL,
	"side" text NOT NULL,
	"price" numeric(38, 18) NOT NULL,
	"amount" numeric(38, 18) NOT NULL,
	"fee" numeric(38, 18) NOT NULL,
	"fee_asset" text,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "bot_fills_pk" PRIMARY KEY("bot_id","fill_id")
);
--> statement-breakpoint
CREATE TABLE "bot_logs" (
	"bot_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"level" text NOT NULL,
	"logger" text,
	"message" text NOT NULL,
	CONSTRAINT "bot_logs_pk" PRIMARY KEY("bot_id","seq")
);
--> statement-breakpoint
CREATE TABLE "bot_performance" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bot_id" text NOT NULL,
	"controller_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"realized_pnl_quote" numeric(38, 18),
	"unrealized_pnl_quote" numeric(38, 18),
	"unrealized_pnl_pct" numeric(38, 18),
	"realized_pnl_pct" numeric(38, 18),
	"global_pnl_quote" numeric(38, 18),
	"global_pnl_pct" numeric(38, 18),
	"volume_traded" numeric(38, 18),
	"raw" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bot_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bot_id" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"stopped_at" timestamp with time zone,
	"status" text NOT NULL,
	"exit_code" integer,
	"final_status" jsonb
);
--> statement-breakpoint
CREATE TABLE "bots" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"account_name" text NOT NULL,
	"owner_name" text NOT NULL,
	"owner" jsonb NOT NULL,
	"channel" text NOT NULL,
	"runtime" text NOT NULL,
	"image" text,
	"strategy" jsonb NOT NULL,
	"desired_state" text NOT NULL,
	"observed_state" text NOT NULL,
	"exit_code" integer,
	"last_heartbeat_at" timestamp with time zone,
	"log_seq" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"archived_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "bot_events" ADD CONSTRAINT "bot_events_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_fills" ADD CONSTRAINT "bot_fills_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_logs" ADD CONSTRAINT "bot_logs_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_performance" ADD CONSTRAINT "bot_performance_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_runs" ADD CONSTRAINT "bot_runs_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bot_events_bot_event_unique" ON "bot_events" USING btree ("bot_id","event_id");--> statement-breakpoint
CREATE INDEX "bot_events_bot_at_idx" ON "bot_events" USING btree ("bot_id","at");--> statement-breakpoint
CREATE INDEX "bot_fills_bot_at_idx" ON "bot_fills" USING btree ("bot_id","at","fill_id");--> statement-breakpoint
CREATE INDEX "bot_performance_bot_controller_at_idx" ON "bot_performance" USING btree ("bot_id","controller_id","at");--> statement-breakpoint
CREATE INDEX "bot_performance_bot_at_idx" ON "bot_performance" USING btree ("bot_id","at");--> statement-breakpoint
CREATE INDEX "bot_runs_bot_started_idx" ON "bot_runs" USING btree ("bot_id","started_at");--> statement-breakpoint
CREATE INDEX "bots_owner_created_idx" ON "bots" USING btree ("owner_name","created_at");--> statement-breakpoint
CREATE INDEX "bots_created_idx" ON "bots" USING btree ("created_at","id");