CREATE TABLE `pack_blocks` (
	`hash` text PRIMARY KEY NOT NULL,
	`pack` integer NOT NULL,
	`offset` integer NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pack_blocks_by_pack` ON `pack_blocks` (`pack`,`offset`);--> statement-breakpoint
CREATE INDEX `pack_blocks_by_created` ON `pack_blocks` (`created_at`);