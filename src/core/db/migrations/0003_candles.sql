CREATE TABLE "candles" (
	"connector_name" text NOT NULL,
	"trading_pair" text NOT NULL,
	"interval" text NOT NULL,
	"open_time" timestamp with time zone NOT NULL,
	"open" double precision NOT NULL,
	"high" double precision NOT NULL,
	"low" double precision NOT NULL,
	"close" double precision NOT NULL,
	"volume" double precision NOT NULL,
	CONSTRAINT "candles_pk" PRIMARY KEY("connector_name","trading_pair","interval","open_time")
);
