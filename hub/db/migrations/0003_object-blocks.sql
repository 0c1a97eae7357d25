CREATE TABLE `object_blocks` (
	`hash` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `object_blocks_by_created` ON `object_blocks` (`created_at`);