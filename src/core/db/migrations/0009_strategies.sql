CREATE TABLE "controller_config_versions" (
	"config_id" text NOT NULL,
	"version" integer NOT NULL,
	"config" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "controller_config_versions_config_id_version_pk" PRIMARY KEY("config_id","version")
);
--> statement-breakpoint
CREATE TABLE "controller_configs" (
	"id" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"name" text NOT NULL,
	"controller_name" text NOT NULL,
	"current_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "controller_config_versions" ADD CONSTRAINT "controller_config_versions_config_id_controller_configs_id_fk" FOREIGN KEY ("config_id") REFERENCES "public"."controller_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "controller_configs_owner_name_idx" ON "controller_configs" USING btree ("owner","name");--> statement-breakpoint
CREATE INDEX "controller_configs_created_idx" ON "controller_configs" USING btree ("created_at","id");