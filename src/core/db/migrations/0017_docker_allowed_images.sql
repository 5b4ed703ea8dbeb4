CREATE TABLE "docker_allowed_images" (
	"pattern" text PRIMARY KEY NOT NULL,
	"added_by" text NOT NULL,
	"added_at" timestamp with time zone NOT NULL
);
