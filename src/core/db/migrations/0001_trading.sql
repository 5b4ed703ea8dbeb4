CREATE TABLE "fills" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fill_id" text NOT NULL,
	"order_id" text NOT NULL,
	"account_name" text NOT NULL,
	"connector_name" text NOT NULL,
	"trading_pair" text NOT NULL,
	"side" text NOT NULL,
	"price" numeric(38, 18) NOT NULL,
	"amount" numeric(38, 18) NOT NULL,
	"fee" numeric(38, 18) NOT NULL,
	"fee_asset" text NOT NULL,
	"is_maker" boolean NOT NULL,
	"realized_pnl" numeric(38, 18),
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" text PRIMARY KEY NOT NULL,
	"client_order_id" text NOT NULL,
	"account_name" text NOT NULL,
	"connector_name" text NOT NULL,
	"trading_pair" text NOT NULL,
	"side" text NOT NULL,
	"order_type" text NOT NULL,
	"amount" numeric(38, 18) NOT NULL,
	"price" numeric(38, 18),
	"position_action" text,
	"leverage" integer,
	"status" text NOT NULL,
	"filled_amount" numeric(38, 18) DEFAULT '0' NOT NULL,
	"average_fill_price" numeric(38, 18),
	"fee_paid" numeric(38, 18) DEFAULT '0' NOT NULL,
	"fee_asset" text,
	"reserved_asset" text,
	"reserved_amount" numeric(38, 18) DEFAULT '0' NOT NULL,
	"exchange_order_id" text,
	"error_message" text,
	"request_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "positions" (
	"account_name" text NOT NULL,
	"connector_name" text NOT NULL,
	"trading_pair" text NOT NULL,
	"amount" numeric(38, 18) NOT NULL,
	"entry_price" numeric(38, 18) NOT NULL,
	"leverage" integer NOT NULL,
	"margin" numeric(38, 18) NOT NULL,
	"realized_pnl" numeric(38, 18) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "positions_pk" PRIMARY KEY("account_name","connector_name","trading_pair")
);
--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_account_name_accounts_name_fk" FOREIGN KEY ("account_name") REFERENCES "public"."accounts"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_account_name_accounts_name_fk" FOREIGN KEY ("account_name") REFERENCES "public"."accounts"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "fills_fill_id_uq" ON "fills" USING btree ("fill_id");--> statement-breakpoint
CREATE INDEX "fills_account_at_idx" ON "fills" USING btree ("account_name","at");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_account_client_order_id_uq" ON "orders" USING btree ("account_name","client_order_id");--> statement-breakpoint
CREATE INDEX "orders_status_idx" ON "orders" USING btree ("status");--> statement-breakpoint
CREATE INDEX "orders_account_created_idx" ON "orders" USING btree ("account_name","created_at");