CREATE INDEX "fills_order_id_idx" ON "fills" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "orders_client_order_id_idx" ON "orders" USING btree ("client_order_id");